/**
 * The idle rule, per slot: every check an idle slot counts one more, an active
 * slot goes back to zero, and at `limit` consecutive idle checks the slot goes
 * to sleep and the counter restarts.
 */

import type { Slot } from '../devices/slot-state.js';

export interface IdleCounterState {
  idleChecks: number;
  asleep: boolean;
}

/** Idle counter and sleep flag by slot key: what the cluster side keeps in the Lease. */
export type LifecycleState = Record<string, IdleCounterState>;

export type IdleAction = 'none' | 'sleep';

export interface IdleCheckResult {
  next: IdleCounterState;
  action: IdleAction;
}

export function idleCheck(
  previous: IdleCounterState,
  active: boolean,
  limit: number,
): IdleCheckResult {
  if (active) return { next: { idleChecks: 0, asleep: previous.asleep }, action: 'none' };
  // An asleep slot stays asleep; counting on would only churn the annotation.
  if (previous.asleep) return { next: previous, action: 'none' };
  const idleChecks = previous.idleChecks + 1;
  if (idleChecks >= limit) return { next: { idleChecks: 0, asleep: true }, action: 'sleep' };
  return { next: { idleChecks, asleep: false }, action: 'none' };
}

/** What waking does to the counter, whether or not the slot was asleep. */
export function woken(): IdleCounterState {
  return { idleChecks: 0, asleep: false };
}

/** Awake, and ready for a task or running one. */
export function isReady(slot: Slot, state: IdleCounterState): boolean {
  return !state.asleep && (slot.health.state === 'ready' || slot.health.state === 'busy');
}
