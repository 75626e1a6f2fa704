/**
 * What the cluster reporter writes and reads, as pure functions: Node labels, the Lease's
 * annotations (lifecycle and inventory) and their reading back, and the operator's override
 * annotations on the Node. No I/O here, so every rule is table-tested.
 */

import type { LifecycleState } from '../lifecycle/idle-counter.js';
import type { OperatorOverrides, OverrideKind, OverrideSet } from '../operator/overrides.js';

export const PREFIX = 'farm-agent.io';

export const LABEL_PHONES = `${PREFIX}/phones`;
export const LABEL_DEVICE_TYPES = `${PREFIX}/device-types`;
export const LABEL_AWAKE = `${PREFIX}/awake`;

export const ANNOTATION_IDLE_CHECKS = `${PREFIX}/idle-checks`;
export const ANNOTATION_LIFECYCLE = `${PREFIX}/lifecycle`;
export const ANNOTATION_INVENTORY = `${PREFIX}/inventory`;

/** What the agent tells the cluster, provided on demand. */
export interface ClusterSnapshot {
  node: string;
  lifecycle: LifecycleState;
  slots: SnapshotSlot[];
  /** Host facts (model, temperatures, disk...), small. */
  host?: Record<string, unknown>;
}

export interface SnapshotSlot {
  name: string;
  key: string;
  botId: string;
  state: string;
  reason?: string;
  deviceType?: string;
  model?: string;
  batteryPercent?: number;
  temperatureC?: number;
}

// ---------------------------------------------------------------------------------------------
// Node labels

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

// ---------------------------------------------------------------------------------------------
// Lease annotations

/** Budget for the inventory annotation; the API server's limit is 256 KiB for all of them. */
export const INVENTORY_MAX_BYTES = 16 * 1024;
/** Host facts beyond this are replaced by a note: they are meant to be a handful of numbers. */
export const HOST_MAX_BYTES = 2 * 1024;

interface InventorySlot {
  name: string;
  bot: string;
  state: string;
  reason?: string;
  type?: string;
  model?: string;
  battery?: number;
  tempC?: number;
}

interface Inventory {
  slots: InventorySlot[];
  /** Slots left out to stay within the budget. */
  more?: number;
  host?: Record<string, unknown>;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

function inventorySlot(s: SnapshotSlot, withReason: boolean): InventorySlot {
  return {
    name: s.name,
    bot: s.botId,
    state: s.state,
    ...(withReason && s.reason !== undefined ? { reason: s.reason } : {}),
    ...(s.deviceType === undefined ? {} : { type: s.deviceType }),
    ...(s.model === undefined ? {} : { model: s.model }),
    ...(s.batteryPercent === undefined ? {} : { battery: Math.round(s.batteryPercent) }),
    ...(s.temperatureC === undefined ? {} : { tempC: round1(s.temperatureC) }),
  };
}

/**
 * Compact JSON of the slots and host facts, at most `maxBytes`: oversized host facts are
 * replaced by their size, then reasons (free text, the longest part) are dropped, then the
 * slots that do not fit are left out and counted in `more`.
 */
export function inventoryJson(
  snapshot: ClusterSnapshot,
  maxBytes: number = INVENTORY_MAX_BYTES,
): string {
  let host = snapshot.host;
  if (host !== undefined) {
    const size = Buffer.byteLength(JSON.stringify(host));
    if (size > HOST_MAX_BYTES) host = { omitted: `${size} bytes` };
  }
  const render = (slots: InventorySlot[], more: number): string => {
    const inv: Inventory = {
      slots,
      ...(more > 0 ? { more } : {}),
      ...(host === undefined ? {} : { host }),
    };
    return JSON.stringify(inv);
  };
  const fits = (json: string): boolean => Buffer.byteLength(json) <= maxBytes;
  const full = render(
    snapshot.slots.map((s) => inventorySlot(s, true)),
    0,
  );
  if (fits(full)) return full;
  const bare = snapshot.slots.map((s) => inventorySlot(s, false));
  for (let n = bare.length; n >= 0; n--) {
    const json = render(bare.slice(0, n), bare.length - n);
    if (fits(json)) return json;
  }
  return render([], bare.length);
}

/** The Lease's annotations: idle counters and sleep state per slot, and the inventory. */
export function leaseAnnotations(snapshot: ClusterSnapshot): Record<string, string> {
  const names = Object.keys(snapshot.lifecycle).sort();
  const idle = Object.fromEntries(names.map((n) => [n, snapshot.lifecycle[n]?.idleChecks ?? 0]));
  const life = Object.fromEntries(
    names.map((n) => [n, snapshot.lifecycle[n]?.asleep === true ? 'asleep' : 'awake']),
  );
  return {
    [ANNOTATION_IDLE_CHECKS]: JSON.stringify(idle),
    [ANNOTATION_LIFECYCLE]: JSON.stringify(life),
    [ANNOTATION_INVENTORY]: inventoryJson(snapshot),
  };
}

/**
 * What makes a Lease write worth doing now rather than at the next renewal: the lifecycle
 * (so a restart continues from the right count) and each slot's identity and state. Battery,
 * temperature, reasons and host facts change all the time and ride along with the renewals.
 */
export function urgentLeaseKey(snapshot: ClusterSnapshot): string {
  return JSON.stringify([
    leaseAnnotations({ ...snapshot, slots: [], host: undefined }),
    snapshot.slots.map((s) => [s.name, s.botId, s.state, s.deviceType, s.model]),
  ]);
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The lifecycle a previous agent left in the Lease. Entries that do not make sense (a negative
 * or fractional count, an unknown state) are skipped rather than trusted; undefined when
 * neither annotation is usable.
 */
export function parseLeaseLifecycle(
  annotations: Record<string, string> | undefined,
): LifecycleState | undefined {
  const idle = parseJsonObject(annotations?.[ANNOTATION_IDLE_CHECKS]);
  const life = parseJsonObject(annotations?.[ANNOTATION_LIFECYCLE]);
  if (idle === undefined && life === undefined) return undefined;
  const result: LifecycleState = {};
  for (const name of new Set([...Object.keys(idle ?? {}), ...Object.keys(life ?? {})])) {
    const count = idle?.[name];
    const state = life?.[name];
    const validCount = typeof count === 'number' && Number.isInteger(count) && count >= 0;
    const validState = state === 'asleep' || state === 'awake';
    if (!validCount && !validState) continue;
    result[name] = { idleChecks: validCount ? count : 0, asleep: state === 'asleep' };
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Operator overrides

export type { OperatorOverrides, OverrideKind, OverrideSet };
export const OVERRIDE_KINDS: readonly OverrideKind[] = ['maintenance', 'quarantine'];

/** Slot names as slotName() makes them: lower-case DNS labels. */
const SLOT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** The name part of an annotation key (after the prefix) is a qualified name: 63 at most. */
const KEY_NAME_MAX = 63;
/** Reasons end up in Swarming's quarantine text and /status: a sentence, not a document. */
export const REASON_MAX = 256;

/** The Node annotation for an override, or an error text when the slot cannot have one. */
export function overrideAnnotation(
  kind: OverrideKind,
  slot: string | undefined,
): { key: string } | { error: string } {
  if (slot === undefined) return { key: `${PREFIX}/${kind}` };
  const name = `${kind}.${slot}`;
  if (!SLOT_NAME.test(slot)) return { error: `"${slot}" is not a slot name` };
  if (name.length > KEY_NAME_MAX) {
    return { error: `slot name "${slot}" is too long for an annotation key (${name})` };
  }
  return { key: `${PREFIX}/${name}` };
}

export function defaultReason(kind: OverrideKind, slot: string | undefined): string {
  return `${kind} set by an operator on the Node${slot === undefined ? '' : ` for ${slot}`}`;
}

function reasonFrom(value: string, kind: OverrideKind, slot: string | undefined): string {
  const text = value.trim().replace(/\s+/g, ' ');
  return text === '' ? defaultReason(kind, slot) : text.slice(0, REASON_MAX);
}

/**
 * Overrides from the Node's annotations: `farm-agent.io/<kind>` node-wide and
 * `farm-agent.io/<kind>.<slot>` per slot; the value is the reason, empty meaning "set, no
 * reason given". Other keys under the prefix that look like overrides but are not well-formed
 * are returned in `ignored` so they can be logged.
 */
export function parseOverrides(annotations: Record<string, string> | undefined): {
  overrides: OperatorOverrides;
  ignored: string[];
} {
  const overrides: OperatorOverrides = { node: {}, slots: {} };
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(annotations ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    if (!key.startsWith(`${PREFIX}/`)) continue;
    const rest = key.slice(PREFIX.length + 1);
    const kind = OVERRIDE_KINDS.find((k) => rest === k || rest.startsWith(`${k}.`));
    if (kind === undefined) {
      if (OVERRIDE_KINDS.some((k) => rest.toLowerCase().startsWith(k))) ignored.push(key);
      continue;
    }
    if (rest === kind) {
      overrides.node[kind] = reasonFrom(value, kind, undefined);
      continue;
    }
    const slot = rest.slice(kind.length + 1);
    if (!SLOT_NAME.test(slot)) {
      ignored.push(key);
      continue;
    }
    overrides.slots[slot] = { ...overrides.slots[slot], [kind]: reasonFrom(value, kind, slot) };
  }
  return { overrides, ignored };
}

/** Key-order-independent equality of two override sets, to deliver changes only. */
export function sameOverrides(a: OperatorOverrides, b: OperatorOverrides): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

// ---------------------------------------------------------------------------------------------
// Events from slot transitions

export interface TransitionEvent {
  type: 'Normal' | 'Warning';
  reason: 'Attached' | 'Detached' | 'Missing' | 'Recovering' | 'Recovered';
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
  if (ABSENT.has(prev)) return { type: 'Normal', reason: 'Attached' };
  if (next === 'recovering') return { type: 'Warning', reason: 'Recovering' };
  // Only back in service counts: recovering → quarantined (an operator) is no recovery.
  if (prev === 'recovering' && (next === 'ready' || next === 'busy')) {
    return { type: 'Normal', reason: 'Recovered' };
  }
  return undefined;
}
