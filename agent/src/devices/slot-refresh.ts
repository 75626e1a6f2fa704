import type { Clock } from '@farm-agent/bot-config/lib';
import { interrogateSlot, type InterrogationDeps } from './slot-interrogation.js';
import type { SlotState } from './slot-state.js';

export interface SlotRefreshOptions extends InterrogationDeps {
  clock: Clock;
  intervalMs: number;
  /** Background work the slot manager waits for on stop. */
  track: (work: Promise<void>) => void;
}

/**
 * When present phones are read: at most one read per slot at a time, and a
 * tick every refresh interval (the slot manager reconciles and reads then).
 */
export class SlotRefresh {
  private timer: unknown;

  constructor(private readonly options: SlotRefreshOptions) {}

  /** Calls `tick` every interval until stop(). */
  start(tick: () => void): void {
    this.timer = this.options.clock.setTimeout(() => {
      tick();
      this.start(tick);
    }, this.options.intervalMs);
  }

  stop(): void {
    this.options.clock.clearTimeout(this.timer);
  }

  /** Re-reads a present phone; a refresh already running for the slot is not doubled. */
  refresh(slot: SlotState): void {
    if (slot.refreshing !== undefined || slot.serial === undefined) return;
    const serial = slot.serial;
    slot.refreshing = interrogateSlot(slot, serial, this.options).finally(() => {
      delete slot.refreshing;
    });
    this.options.track(slot.refreshing);
  }
}
