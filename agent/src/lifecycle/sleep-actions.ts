import type { Clock } from '@farm-agent/bot-config/lib';
import type { SleepAction } from '../config/sleep-action.js';
import type { DeviceIO } from '../devices/device-io.js';
import type { SlotManager } from '../devices/slot-manager.js';
import type { Slot } from '../devices/slot-state.js';
import { uhubctlTarget } from '../devices/slot.js';
import type { UhubctlTarget } from '../devices/slot.js';
import type { PortPower } from '../power/port-power.js';
import type { PowerOnWatch } from './power-on-watch.js';

/** What a slot's sleep and wake do, decided from the farm's action and the slot. */
type Method = { kind: 'none' } | { kind: 'screen' } | { kind: 'usb-power'; target: UhubctlTarget };

export interface SleepActionsOptions {
  action: SleepAction;
  io: DeviceIO;
  manager: SlotManager;
  powerOn: PowerOnWatch;
  /** The owner of port power: sleep's cut is one claim among others (tasks, charge, recovery). */
  power: PortPower;
  /** How long a wake holds the port on against cuts (the lifecycle's hold after a wake). */
  wakeHoldMs: number;
  clock: Clock;
  /** The hub port that powers a slot's phone; null for network phones. */
  powerTarget?: ((slot: Slot) => UhubctlTarget | null) | undefined;
  /** For `input keyevent`. */
  timeoutMs: number;
}

/** The commands that put one phone to sleep and wake it: a keyevent, or its port's power. */
export class SleepActions {
  constructor(private readonly options: SleepActionsOptions) {}

  /** Whether sleeping this slot cuts its port's power (its phone then leaves adb). */
  powersOff(slot: Slot): boolean {
    return this.methodOf(slot).kind === 'usb-power';
  }

  async sleep(slot: Slot): Promise<void> {
    const method = this.methodOf(slot);
    if (method.kind === 'screen') await this.keyevent(slot, 'KEYCODE_SLEEP');
    if (method.kind !== 'usb-power') return;
    const { manager, powerOn } = this.options;
    powerOn.cancel(slot.key);
    // Said before the power goes: the phone leaving adb must never read as missing.
    manager.setPoweredOff(slot.key, true);
    try {
      const port = await this.options.power.hold(method.target, 'sleep', 'asleep: idle', {
        replaces: 'wake',
      });
      if (port.state !== 'off') {
        throw new Error(`the port stays on: ${port.holder} holds it (${port.reason})`);
      }
    } catch (error) {
      manager.setPoweredOff(slot.key, false);
      throw error;
    }
  }

  async wake(slot: Slot): Promise<void> {
    const method = this.methodOf(slot);
    if (method.kind === 'screen') await this.keyevent(slot, 'KEYCODE_WAKEUP');
    if (method.kind !== 'usb-power') return;
    const { power, clock, wakeHoldMs } = this.options;
    await power.hold(method.target, 'wake', 'woken for use', {
      replaces: 'sleep',
      untilMs: clock.now() + wakeHoldMs,
    });
    this.options.powerOn.watch(slot.key);
  }

  /**
   * `usb-power` needs a USB port: a network phone in a usb-power farm
   * sleeps its screen instead.
   */
  private methodOf(slot: Slot): Method {
    const action = this.options.action;
    if (action !== 'usb-power') return { kind: action };
    const target = (this.options.powerTarget ?? ((s: Slot) => uhubctlTarget(s.key)))(slot);
    return target === null ? { kind: 'screen' } : { kind: 'usb-power', target };
  }

  private async keyevent(slot: Slot, code: 'KEYCODE_SLEEP' | 'KEYCODE_WAKEUP'): Promise<void> {
    if (slot.serial === undefined || slot.adbState !== 'device') {
      throw new Error(`no phone in adb to send ${code} to`);
    }
    const { io, timeoutMs } = this.options;
    const out = await io.shell(slot.serial, `input keyevent ${code}`, timeoutMs);
    // adb gives no exit code: `input` prints nothing on success, its error otherwise.
    if (out.trim() !== '') throw new Error(`input keyevent ${code}: ${out.trim()}`);
  }
}
