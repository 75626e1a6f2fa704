import type { SnapshotSlot } from './cluster-model.js';

/** The Node condition summarising the phones, as node-problem-detector publishes its own. */
export const PHONES_CONDITION = 'FarmPhonesReady';

export interface PhonesCondition {
  status: 'True' | 'False';
  /** UpperCamelCase, as condition reasons are. */
  reason: 'PhonesReady' | 'PhonesNotReady' | 'NoPhones';
  message: string;
}

/** States in which a phone serves tasks, or will by itself at the next task. */
const SERVING = new Set(['ready', 'busy', 'asleep']);
/** A condition message is free text; kubectl shows it whole, so it stays short. */
const MESSAGE_MAX = 1024;

/**
 * True while every phone serves tasks (ready, busy, or asleep until the next
 * one); False naming each phone that does not and why. Slots that never had a
 * phone do not count.
 */
export function phonesCondition(slots: readonly SnapshotSlot[]): PhonesCondition {
  const phones = slots.filter((slot) => slot.state !== 'empty');
  if (phones.length === 0) {
    return { status: 'True', reason: 'NoPhones', message: 'No phone attached' };
  }
  const down = phones.filter((slot) => !SERVING.has(slot.state));
  const serving = `${phones.length - down.length} of ${phones.length} phones serving tasks`;
  if (down.length === 0) return { status: 'True', reason: 'PhonesReady', message: serving };
  const each = down.map((slot) => `${slot.name}: ${slot.diagnosis ?? slot.state}`);
  return {
    status: 'False',
    reason: 'PhonesNotReady',
    message: `${serving}; ${each.join('; ')}`.slice(0, MESSAGE_MAX),
  };
}
