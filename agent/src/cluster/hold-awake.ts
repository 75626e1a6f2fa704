/**
 * The farm gate's hot standby on a Node: `farm-agent.io/hold-awake` lists the slots (by name,
 * comma-separated) the gate wants kept awake. The gate writes it; the agent reads it with its
 * other Node annotations and counts a held slot as active in every idle check.
 */
import { PREFIX } from './cluster-model.js';

export const ANNOTATION_HOLD_AWAKE = `${PREFIX}/hold-awake`;

/** Slot names as slotName() makes them: lower-case DNS labels. */
const SLOT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The held slot names; entries that are not slot names are ignored, as is a missing value. */
export function parseHoldAwake(annotations: Record<string, string> | undefined): Set<string> {
  const value = annotations?.[ANNOTATION_HOLD_AWAKE] ?? '';
  return new Set(
    value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => SLOT_NAME.test(s)),
  );
}

/** The annotation value for these slots: sorted, or null (merge-patch delete) for none. */
export function holdAwakeValue(slots: Iterable<string>): string | null {
  const sorted = [...new Set(slots)].sort();
  return sorted.length === 0 ? null : sorted.join(',');
}
