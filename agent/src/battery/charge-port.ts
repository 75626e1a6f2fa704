import type { Slot } from '../devices/slot-state.js';
import { uhubctlTarget } from '../devices/slot.js';
import type { UhubctlTarget } from '../devices/slot.js';
import { execCommand } from '../lifecycle/commands.js';
import type { CommandRunner } from '../lifecycle/commands.js';
import { hubSwitchingProblem, switchPort } from '../lifecycle/uhubctl.js';

/**
 * What charge control needs of a slot's port power. Kept this small so the one owner of
 * port power (shared with the usb-power sleep action and the recovery ladder) can implement
 * it, with charge control as one of its holders.
 */
export interface ChargePort {
  /** Why this slot's power cannot be switched at all (a network phone), or undefined. */
  unavailable(slot: Slot): string | undefined;
  /** Cuts the port. Resolves with why the cut cannot keep the phone off power, if it knows. */
  cut(slot: Slot): Promise<string | undefined>;
  restore(slot: Slot): Promise<void>;
}

export interface UhubctlChargePortOptions {
  run?: CommandRunner;
  /** The hub port of a slot; default from its USB path, null for network phones. */
  powerTarget?: (slot: Slot) => UhubctlTarget | null;
  timeoutMs: number;
}

/** ChargePort over uhubctl, until the port-power owner takes this over. */
export class UhubctlChargePort implements ChargePort {
  constructor(private readonly options: UhubctlChargePortOptions) {}

  unavailable(slot: Slot): string | undefined {
    return this.target(slot) === null ? 'a network phone has no USB port to switch' : undefined;
  }

  async cut(slot: Slot): Promise<string | undefined> {
    const target = this.require(slot);
    return hubSwitchingProblem(await this.switch(target, 'off'), target.hub);
  }

  async restore(slot: Slot): Promise<void> {
    await this.switch(this.require(slot), 'on');
  }

  private switch(target: UhubctlTarget, action: 'on' | 'off'): Promise<string> {
    return switchPort(this.options.run ?? execCommand, target, action, this.options.timeoutMs);
  }

  private target(slot: Slot): UhubctlTarget | null {
    return (this.options.powerTarget ?? ((s: Slot) => uhubctlTarget(s.key)))(slot);
  }

  private require(slot: Slot): UhubctlTarget {
    const target = this.target(slot);
    if (target === null) throw new Error(`slot ${slot.name} has no hub port`);
    return target;
  }
}
