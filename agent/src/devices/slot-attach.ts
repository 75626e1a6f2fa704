import type { Logger } from 'pino';
import type { AdbDevice, DeviceIO, DevicePresence } from './device-io.js';
import { readDevicePath } from './interrogate.js';
import type { InterrogationTimeouts } from './interrogate.js';
import type { RebootAfterTask } from './reboot-after-task.js';
import { slotKey } from './slot.js';
import { forgetReadings } from './slot-readings.js';
import type { SlotRegistry } from './slot-registry.js';
import type { SlotState } from './slot-state.js';

export interface SlotAttachOptions {
  io: DeviceIO;
  presence: DevicePresence;
  registry: SlotRegistry;
  reboots: RebootAfterTask;
  timeouts: InterrogationTimeouts;
  log: Logger;
}

/**
 * Which slot holds each serial adb lists. A new serial's slot is its USB port
 * (or its own serial over TCP); a phone that is not the slot's last one takes
 * the slot over, and the bot id with it.
 */
export class SlotAttach {
  /** Serials adb lists whose slot is known. */
  private readonly slotOfSerial = new Map<string, SlotState>();
  /** Serials whose slot is being looked up. */
  private readonly attaching = new Set<string>();
  /** Serials whose slot could not be found, and why; retried every refresh. */
  private readonly problems = new Map<string, string>();

  constructor(private readonly options: SlotAttachOptions) {}

  slotOf(serial: string): SlotState | undefined {
    return this.slotOfSerial.get(serial);
  }

  /** Serial and slot of every phone whose slot is known. */
  attached(): [string, SlotState][] {
    return [...this.slotOfSerial];
  }

  /** adb no longer lists the serial: it may come back in another port, found afresh then. */
  detach(serial: string): void {
    this.slotOfSerial.delete(serial);
    this.problems.delete(serial);
  }

  /**
   * Finds the slot of a serial adb lists but no slot holds yet, and calls
   * `found` at once (no other presence change may land in between). Nothing
   * when it is already being looked up, has left meanwhile, or has no slot
   * (logged once per distinct problem, retried on the next refresh).
   */
  async attach(serial: string, found: (device: AdbDevice) => void): Promise<void> {
    const { io, presence, registry, timeouts, log } = this.options;
    if (this.attaching.has(serial)) return;
    this.attaching.add(serial);
    const path = await readDevicePath(io, serial, timeouts).finally(() =>
      this.attaching.delete(serial),
    );
    const device = presence.devices().get(serial);
    if (device === undefined || this.slotOfSerial.has(serial)) return;
    const slot = path.ok ? registry.slotFor(slotKey(path.value, serial)) : path;
    if (!slot.ok) {
      if (this.problems.get(serial) !== slot.reason) {
        log.warn({ serial, reason: slot.reason }, 'cannot find the slot of a device');
      }
      this.problems.set(serial, slot.reason);
      return;
    }
    this.problems.delete(serial);
    if (slot.value.serial !== serial) this.takeOver(slot.value, serial);
    this.slotOfSerial.set(serial, slot.value);
    found(device);
  }

  /** A phone that is not the slot's last one moves in: nothing known of the old one holds. */
  private takeOver(slot: SlotState, serial: string): void {
    if (slot.serial !== undefined) {
      this.options.log.info({ slot: slot.key, from: slot.serial, to: serial }, 'new phone in slot');
    }
    for (const other of this.options.registry.all()) {
      // The phone moved here from another port: that slot no longer has it.
      if (other.serial === serial) delete other.serial;
    }
    this.options.reboots.cancel(slot);
    delete slot.rebootFailure;
    delete slot.props;
    delete slot.uptimeSeconds;
    forgetReadings(slot);
    slot.serial = serial;
    // The caller applies the new phone's adb state and updates: no passing "missing".
    slot.adbState = undefined;
  }
}
