import type { Logger } from 'pino';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { DeviceIO } from './device-io.js';
import type { RebootInProgress, SlotState } from './slot-state.js';

export interface RebootAfterTaskOptions {
  io: DeviceIO;
  clock: Clock;
  log: Logger;
  commandMs: number;
  /** How long the phone may take to be back and booted. */
  deadlineMs: number;
  /** The slot changed: re-derive and tell listeners. */
  changed: (slot: SlotState) => void;
  /** Read the phone again now. */
  refresh: (slot: SlotState) => void;
}

/**
 * Skia's reboot after every task, as a small state machine on the slot:
 * `reboot` is set while the phone is on its way back (health shows it
 * booting, away on purpose); it ends when the phone is seen booted after
 * leaving adb or with a lower uptime, or at the deadline with `rebootFailure`
 * set, which health quarantines until the phone is back and booted.
 */
export class RebootAfterTask {
  constructor(private readonly options: RebootAfterTaskOptions) {}

  async start(slot: SlotState): Promise<void> {
    const { io, clock, log, commandMs, deadlineMs, changed, refresh } = this.options;
    const serial = slot.serial;
    if (serial === undefined || slot.adbState !== 'device') {
      log.warn({ slot: slot.key }, 'no phone to reboot after the task');
      return;
    }
    const reboot: RebootInProgress = {
      uptimeBefore: slot.uptimeSeconds,
      sawGone: false,
      timer: clock.setTimeout(() => {
        if (slot.reboot !== reboot) return;
        delete slot.reboot;
        slot.rebootFailure = `not back within ${deadlineMs / 1000} s of its reboot after a task`;
        changed(slot);
      }, deadlineMs),
    };
    this.cancel(slot);
    slot.reboot = reboot;
    changed(slot);
    try {
      await io.reboot(serial, commandMs);
    } catch (error) {
      log.warn({ slot: slot.key, serial, err: error }, 'reboot after task failed');
      // Never asked or never heard: the phone is what the next reading says it is.
      if (slot.reboot === reboot) this.cancel(slot);
      changed(slot);
      if (slot.adbState === 'device') refresh(slot);
    }
  }

  /** adb stopped listing the phone as `device`: the reboot has begun. */
  leftAdb(slot: SlotState): void {
    if (slot.reboot !== undefined) slot.reboot.sawGone = true;
  }

  /** After fresh readings: a reboot seen through to a booted phone is over. */
  observe(slot: SlotState): void {
    const reboot = slot.reboot;
    if (reboot !== undefined && slot.bootCompleted) {
      const rebooted =
        reboot.sawGone ||
        (reboot.uptimeBefore !== undefined &&
          slot.uptimeSeconds !== undefined &&
          slot.uptimeSeconds < reboot.uptimeBefore);
      if (rebooted) this.cancel(slot);
    }
    if (slot.bootCompleted && slot.reboot === undefined) delete slot.rebootFailure;
  }

  /** A new phone moved in, or the manager stops: no reboot is awaited. */
  cancel(slot: SlotState): void {
    this.options.clock.clearTimeout(slot.reboot?.timer);
    delete slot.reboot;
  }
}
