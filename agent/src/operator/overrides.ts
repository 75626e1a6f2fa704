/**
 * Operator overrides: maintenance and quarantine, node-wide or per slot,
 * from several sources (Node annotations, the local CLI, the host's own
 * health). Pure, so the precedence is written down once and tested.
 */

export interface OverrideSet {
  maintenance?: string;
  quarantine?: string;
}

export interface OperatorOverrides {
  node: OverrideSet;
  /** By slot name (`usb-1-1-3`). */
  slots: Record<string, OverrideSet>;
}

export type OverrideKind = keyof OverrideSet;

export function noOverrides(): OperatorOverrides {
  return { node: {}, slots: {} };
}

/**
 * What applies to one slot. Every source counts (an operator's quarantine is
 * never hidden by someone else's maintenance); within a kind, the reasons of
 * all sources are joined so `/status` and Swarming show why, in source order.
 */
export function effectiveOverrides(sources: OperatorOverrides[], slotName: string): OverrideSet {
  const collect = (kind: OverrideKind): string | undefined => {
    const reasons = sources.flatMap((s) => [s.slots[slotName]?.[kind], s.node[kind]]);
    const present = [...new Set(reasons.filter((r): r is string => r !== undefined))];
    return present.length === 0 ? undefined : present.join('; ');
  };
  const result: OverrideSet = {};
  const maintenance = collect('maintenance');
  const quarantine = collect('quarantine');
  if (maintenance !== undefined) result.maintenance = maintenance;
  if (quarantine !== undefined) result.quarantine = quarantine;
  return result;
}

/** Sets or (reason undefined) clears one override, node-wide or for one slot; returns a new value. */
export function withOverride(
  current: OperatorOverrides,
  kind: OverrideKind,
  slotName: string | undefined,
  reason: string | undefined,
): OperatorOverrides {
  const apply = (set: OverrideSet | undefined): OverrideSet => {
    const { [kind]: _replaced, ...others } = set ?? {};
    return reason === undefined ? others : { ...others, [kind]: reason };
  };
  if (slotName === undefined) return { node: apply(current.node), slots: { ...current.slots } };
  const { [slotName]: previous, ...otherSlots } = current.slots;
  const updated = apply(previous);
  return {
    node: { ...current.node },
    slots: Object.keys(updated).length === 0 ? otherSlots : { ...otherSlots, [slotName]: updated },
  };
}
