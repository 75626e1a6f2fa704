import { errorMessage } from '@farm-agent/bot-config/lib';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { Slot } from '../devices/slot-state.js';
import { uhubctlTarget } from '../devices/slot.js';
import type { UhubctlTarget } from '../devices/slot.js';
import { PowerRefused } from '../power/port-power.js';
import { symptomOf } from './ladder-rules.js';
import type { Rung } from './ladder-rules.js';
import type { LadderOptions } from './recovery-ladder.js';

export type StepsOptions = Pick<LadderOptions, 'slots' | 'actions' | 'power' | 'settings'> & {
  /** The hub port that powers a slot's phone; null for a network phone. */
  powerTarget: (slot: Slot) => UhubctlTarget | null;
  clock: Clock;
};

/** The ladder's steps on one phone, and the watch for it to come back. */
export class RecoverySteps {
  constructor(private readonly options: StepsOptions) {}

  /** Runs one rung; whether the phone comes back is watched afterwards. */
  async take(rung: Rung, slot: Slot): Promise<RungResult> {
    const { actions, power, settings } = this.options;
    const target = this.options.powerTarget(slot);
    try {
      switch (rung) {
        case 'reconnect':
          // A slot keyed by a serial is a network phone: adb must connect it again.
          await actions.reconnect(
            slot.serial,
            uhubctlTarget(slot.key) === null,
            settings.commandTimeoutMs,
          );
          return { kind: 'done' };
        case 'reboot':
          if (slot.serial === undefined || slot.adbState !== 'device') {
            return { kind: 'refused', why: 'the phone does not answer adb' };
          }
          await actions.reboot(slot.serial, settings.commandTimeoutMs);
          return { kind: 'done' };
        case 'power-cycle':
          if (target === null) return { kind: 'refused', why: 'a network phone has no USB port' };
          if (power === undefined) return { kind: 'refused', why: 'no port power control' };
          await power.cycle(target, `recovery: ${slot.name}`, settings.cycleOffMs);
          return { kind: 'done' };
      }
    } catch (error) {
      if (error instanceof PowerRefused) return { kind: 'refused', why: error.message };
      return { kind: 'error', why: errorMessage(error) };
    }
  }

  /**
   * Watches the slot for the phone to be back: in adb, booted and answering. With
   * `mustLeave`, only after it was seen leaving adb. `within(ms)` resolves true once it
   * is back, false at the deadline.
   */
  watchBack(key: string, mustLeave: boolean): BackWatch {
    let left = !mustLeave;
    let back = false;
    let done: ((value: boolean) => void) | undefined;
    const seen = (slot: Slot | undefined): void => {
      if (slot === undefined || slot.key !== key) return;
      if (slot.adbState !== 'device') left = true;
      else if (left && slot.bootCompleted && symptomOf(slot) === undefined) {
        back = true;
        done?.(true);
      }
    };
    const unsubscribe = this.options.slots.onSlotChanged(seen);
    return {
      cancel: unsubscribe,
      within: (ms) =>
        new Promise<boolean>((resolve) => {
          const timer = this.options.clock.setTimeout(() => done?.(false), ms);
          done = (value) => {
            this.options.clock.clearTimeout(timer);
            unsubscribe();
            done = undefined;
            resolve(value);
          };
          // The step may have brought it back already (a cycle ends with the phone enumerated).
          seen(this.options.slots.slot(key));
          if (back) done?.(true);
        }),
    };
  }
}

type RungResult = { kind: 'done' } | { kind: 'refused' | 'error'; why: string };

interface BackWatch {
  within(ms: number): Promise<boolean>;
  cancel(): void;
}
