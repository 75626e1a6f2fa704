/** The four ways a person or a program names a slot. */
export interface SlotIdentity {
  /** `usb:1-1.3`, or a TCP device's serial. */
  key: string;
  /** `usb-1-1-3`: the slot's label-safe name. */
  name: string;
  botId: string;
  /** The slot's position on the node, written as a decimal. */
  index: number;
}

/**
 * The slot a reference names, the one resolver for every entry point (CLI,
 * wake routes, operator overrides, lifecycle). Each identifier is tried on
 * every slot before the next: key, then name, then bot id, then index, so a
 * slot whose key is another's name can still be named by its key. Fields a
 * caller does not know (a /status document of an older agent) never match.
 */
export function resolveSlotRef<T>(
  slots: readonly T[],
  ref: string,
  identity: (slot: T) => Partial<SlotIdentity>,
): T | undefined {
  const ids = slots.map((slot) => ({ slot, id: identity(slot) }));
  const index = /^(0|[1-9]\d*)$/.test(ref) ? Number(ref) : undefined;
  const tries: ((id: Partial<SlotIdentity>) => boolean)[] = [
    (id) => id.key === ref,
    (id) => id.name === ref,
    (id) => id.botId === ref,
    (id) => index !== undefined && id.index === index,
  ];
  for (const matches of tries) {
    const found = ids.find(({ id }) => matches(id));
    if (found !== undefined) return found.slot;
  }
  return undefined;
}

export class UnknownSlotError extends Error {
  constructor(
    readonly ref: string,
    readonly known: string[],
  ) {
    super(`no slot "${ref}"; known: ${known.length > 0 ? known.join(', ') : 'none'}`);
    this.name = 'UnknownSlotError';
  }
}

/** resolveSlotRef for slots that know all four identifiers; an unknown reference throws. */
export function requireSlotRef<T extends SlotIdentity>(slots: readonly T[], ref: string): T {
  const found = resolveSlotRef(slots, ref, (slot) => slot);
  if (found === undefined) {
    throw new UnknownSlotError(
      ref,
      slots.map((s) => s.name),
    );
  }
  return found;
}
