/** Which slot health transitions are worth an Event regarding the Node. */

export interface TransitionEvent {
  type: 'Normal' | 'Warning';
  reason: 'Attached' | 'Detached' | 'Missing' | 'Recovering' | 'Recovered' | 'BatteryWorn';
}

/** No phone in the slot, expected (empty) or not (missing). */
const ABSENT = new Set(['empty', 'missing']);

/**
 * The Event a slot's health transition deserves, if any. `prev` undefined is the first sight
 * of the slot (an agent restart): no Event, or every restart would report every phone as
 * attached. Sleep and wake are the lifecycle's own Events (Slept/Woke), not transitions here.
 */
export function slotTransitionEvent(
  prev: string | undefined,
  next: string,
): TransitionEvent | undefined {
  if (prev === undefined || prev === next) return undefined;
  if (next === 'missing') return { type: 'Warning', reason: 'Missing' };
  if (next === 'empty') return { type: 'Normal', reason: 'Detached' };
  // A phone that arrives with a worn battery is news about the battery, not the attach.
  if (next === 'worn') return { type: 'Warning', reason: 'BatteryWorn' };
  if (ABSENT.has(prev)) return { type: 'Normal', reason: 'Attached' };
  if (next === 'recovering') return { type: 'Warning', reason: 'Recovering' };
  // Only back in service counts: recovering → quarantined (an operator) is no recovery.
  if (prev === 'recovering' && (next === 'ready' || next === 'busy')) {
    return { type: 'Normal', reason: 'Recovered' };
  }
  return undefined;
}
