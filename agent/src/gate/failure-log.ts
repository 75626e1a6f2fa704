/**
 * Recent failures per phone, for the /wake score: a phone that fell into a failed state (as the
 * gate saw it between two lists) or that did not wake when the gate asked. Kept for an hour.
 */
import type { FleetNode } from './fleet-model.js';
import { phoneId } from './phone-choice.js';

export const FAILURE_WINDOW_MS = 3_600_000;
const FAILED_STATES = new Set(['offline', 'unauthorized', 'missing', 'recovering', 'adb-down']);

export class FailureLog {
  private readonly failures = new Map<string, number[]>();
  private readonly lastState = new Map<string, string>();

  /** Counts each phone that entered a failed state since the previous fleet. */
  observe(fleet: readonly FleetNode[], now: number): void {
    for (const node of fleet) {
      for (const phone of node.phones) {
        const id = phoneId(phone);
        const before = this.lastState.get(id);
        this.lastState.set(id, phone.state);
        if (before !== undefined && before !== phone.state && FAILED_STATES.has(phone.state)) {
          this.record(id, now);
        }
      }
    }
  }

  record(id: string, now: number): void {
    this.failures.set(id, [...this.recent(id, now), now]);
  }

  count(id: string, now: number): number {
    return this.recent(id, now).length;
  }

  private recent(id: string, now: number): number[] {
    const kept = (this.failures.get(id) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS);
    if (kept.length === 0) this.failures.delete(id);
    else this.failures.set(id, kept);
    return kept;
  }
}
