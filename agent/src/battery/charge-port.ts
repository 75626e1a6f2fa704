import { errorMessage } from '@farm-agent/bot-config/lib';
import type { Slot } from '../devices/slot-state.js';
import { uhubctlTarget } from '../devices/slot.js';
import type { UhubctlTarget } from '../devices/slot.js';
import { PowerRefused } from '../power/port-power.js';
import type { PortPower } from '../power/port-power.js';

/** What became of a cut. */
export type CutResult =
  | { kind: 'cut' }
  /** Someone who needs the phone holds the port on (a task, a wake): try again later. */
  | { kind: 'held'; why: string }
  /** This port can never be cut alone (ganged hub, no switching, uhubctl failing). */
  | { kind: 'unavailable'; why: string };

/**
 * What charge control needs of a slot's port power: one claim (holder `charge`) on the
 * port-power owner, which weighs it against tasks, wakes, sleep and recovery.
 */
export interface ChargePort {
  /** Why this slot's power cannot be switched at all (a network phone), or undefined. */
  unavailable(slot: Slot): string | undefined;
  cut(slot: Slot, reason: string): Promise<CutResult>;
  /** Takes charge control's claim back: the port follows whoever else holds it. */
  restore(slot: Slot): Promise<void>;
}

/** ChargePort as a holder on the one owner of port power. */
export class OwnerChargePort implements ChargePort {
  constructor(
    private readonly power: PortPower,
    /** The hub port of a slot; default from its USB path, null for network phones. */
    private readonly powerTarget: (slot: Slot) => UhubctlTarget | null = (slot) =>
      uhubctlTarget(slot.key),
  ) {}

  unavailable(slot: Slot): string | undefined {
    return this.powerTarget(slot) === null
      ? 'a network phone has no USB port to switch'
      : undefined;
  }

  async cut(slot: Slot, reason: string): Promise<CutResult> {
    const target = this.require(slot);
    try {
      const port = await this.power.hold(target, 'charge', reason);
      if (port.state === 'off') return { kind: 'cut' };
      await this.power.release(target, 'charge');
      return { kind: 'held', why: `${port.holder} holds the port on (${port.reason})` };
    } catch (error) {
      const why = errorMessage(error);
      return { kind: 'unavailable', why: error instanceof PowerRefused ? why : `uhubctl: ${why}` };
    }
  }

  async restore(slot: Slot): Promise<void> {
    await this.power.release(this.require(slot), 'charge');
  }

  private require(slot: Slot): UhubctlTarget {
    const target = this.powerTarget(slot);
    if (target === null) throw new Error(`slot ${slot.name} has no hub port`);
    return target;
  }
}
