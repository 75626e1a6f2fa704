import {
  effectiveOverrides,
  noOverrides,
  withOverride,
  type OperatorOverrides,
  type OverrideKind,
  type OverrideSet,
} from './overrides.js';

/**
 * The three places an override comes from. `cluster` (Node annotations) is the
 * source of truth when there is a cluster; `local` holds CLI commands of a
 * standalone agent until it restarts; `host` is the Pi itself too hot or its
 * disk nearly full. Listed in the order their reasons are shown.
 */
export interface OverrideSources {
  cluster: OperatorOverrides;
  local: OperatorOverrides;
  host: OperatorOverrides;
}

export function noOverrideSources(): OverrideSources {
  return { cluster: noOverrides(), local: noOverrides(), host: noOverrides() };
}

/** The host's maintenance reason (undefined when healthy) as a node-wide override. */
export function hostOverridesOf(reason: string | undefined): OperatorOverrides {
  return { node: reason === undefined ? {} : { maintenance: reason }, slots: {} };
}

/** A CLI command on a standalone agent: sets or (reason undefined) clears a local override. */
export function withLocalOverride(
  sources: OverrideSources,
  kind: OverrideKind,
  slotName: string | undefined,
  reason: string | undefined,
): OverrideSources {
  return { ...sources, local: withOverride(sources.local, kind, slotName, reason) };
}

/** What applies to one slot, every source merged. */
export function overridesForSlot(sources: OverrideSources, slotName: string): OverrideSet {
  return effectiveOverrides([sources.cluster, sources.local, sources.host], slotName);
}

/** What applies to each of the given slots, keyed by slot name (the operator routes show it). */
export function overridesBySlot(
  sources: OverrideSources,
  slotNames: readonly string[],
): Record<string, OverrideSet> {
  return Object.fromEntries(slotNames.map((slot) => [slot, overridesForSlot(sources, slot)]));
}
