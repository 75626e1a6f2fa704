/**
 * The Node's scheduling labels: how many phones, which device types, whether any is awake;
 * always valid label values, and patched only where they differ.
 */
import { PREFIX } from './cluster-model.js';
import type { ClusterSnapshot, SnapshotSlot } from './cluster-model.js';

export const LABEL_PHONES = `${PREFIX}/phones`;
export const LABEL_DEVICE_TYPES = `${PREFIX}/device-types`;
export const LABEL_AWAKE = `${PREFIX}/awake`;

/** apimachinery's label value grammar; the empty string is a valid value too. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_VALUE_MAX = 63;

export function isLabelValue(value: string): boolean {
  return value.length <= LABEL_VALUE_MAX && LABEL_VALUE.test(value);
}

/**
 * One device type as a label-value fragment: characters outside `[A-Za-z0-9_-]` become `-`
 * (`.` too: it separates the types), leading/trailing non-alphanumerics go.
 */
export function labelFragment(deviceType: string): string {
  return deviceType
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
    .slice(0, LABEL_VALUE_MAX)
    .replace(/[^A-Za-z0-9]+$/, '');
}

/**
 * Sorted distinct types joined with `.`; types that would push the value past 63 characters
 * are left out whole (never cut in the middle), so every listed type is a real one and a
 * selector `device-types in (...)` or a regex on `.`-boundaries stays correct for those.
 */
export function deviceTypesLabel(deviceTypes: readonly string[]): string {
  const fragments = [...new Set(deviceTypes.map(labelFragment).filter((t) => t !== ''))].sort();
  let value = '';
  for (const f of fragments) {
    const next = value === '' ? f : `${value}.${f}`;
    if (next.length <= LABEL_VALUE_MAX) value = next;
  }
  return value;
}

/** A phone is in the slot: asleep counts (it is there, powered down); missing and empty do not. */
function hasPhone(slot: SnapshotSlot): boolean {
  return slot.state !== 'empty' && slot.state !== 'missing';
}

/** The three scheduling labels, all valid label values (strings only, as map[string]string). */
export function computeLabels(snapshot: ClusterSnapshot): Record<string, string> {
  const phones = snapshot.slots.filter(hasPhone);
  const awake = phones.some(
    (s) => s.state !== 'asleep' && snapshot.lifecycle[s.name]?.asleep !== true,
  );
  return {
    [LABEL_PHONES]: String(phones.length),
    [LABEL_DEVICE_TYPES]: deviceTypesLabel(
      phones.flatMap((s) => (s.deviceType === undefined ? [] : [s.deviceType])),
    ),
    [LABEL_AWAKE]: String(awake),
  };
}

/** The merge patch that turns `actual` into `desired` for our keys, or undefined if equal. */
export function labelPatch(
  desired: Record<string, string>,
  actual: Record<string, string> | undefined,
): Record<string, string> | undefined {
  const diff = Object.entries(desired).filter(([k, v]) => actual?.[k] !== v);
  return diff.length === 0 ? undefined : Object.fromEntries(diff);
}
