/**
 * The operator's overrides as Node annotations: `farm-agent.io/<kind>` node-wide and
 * `farm-agent.io/<kind>.<slot>` per slot, the value being the reason; written by setOverride,
 * read back from every Node read.
 */
import { isRecord } from '@farm-agent/bot-config/lib';
import type { OperatorOverrides, OverrideKind } from '../operator/overrides.js';
import { PREFIX } from './cluster-model.js';

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
    isRecord(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
