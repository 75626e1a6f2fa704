import type { Logger } from 'pino';
import type { Reading } from './interrogate.js';
import { botIdFor, slotName } from './slot.js';
import type { SlotState } from './slot-state.js';
import type { PersistedSlot } from './slot-store.js';
import type { DeviceDimensions } from './swarming-dimensions.js';

export interface SlotRegistryOptions {
  /** The Kubernetes node name, `{node}` of the bot id pattern. */
  node: string;
  botIdPattern: string;
  /** The dimensions of a slot without a phone. */
  noDevice: DeviceDimensions;
  log: Logger;
}

/**
 * The node's slots by key, each with its index and bot id. A slot is never
 * forgotten: its bot keeps its id across phone swaps and restarts (the store
 * holds what outlives the process).
 */
export class SlotRegistry {
  private readonly byKey = new Map<string, SlotState>();
  private persisted = '';
  /** The slots last compared, by reference (see toSave), and by key. */
  private compared: readonly PersistedSlot[] = [];
  private comparedByKey = new Map<string, PersistedSlot>();

  constructor(private readonly options: SlotRegistryOptions) {}

  get(key: string): SlotState | undefined {
    return this.byKey.get(key);
  }

  /** The first slot, in slot order, whose bot has this id. */
  ofBot(botId: string): SlotState | undefined {
    let found: SlotState | undefined;
    for (const slot of this.byKey.values()) {
      if (slot.botId === botId && (found === undefined || slot.index < found.index)) found = slot;
    }
    return found;
  }

  /** In slot order. */
  all(): SlotState[] {
    return [...this.byKey.values()].sort((a, b) => a.index - b.index);
  }

  /** The slot of this key, created at the lowest free index when new. */
  slotFor(key: string): Reading<SlotState> {
    const existing = this.byKey.get(key);
    if (existing !== undefined) return { ok: true, value: existing };
    const used = new Set([...this.byKey.values()].map((s) => s.index));
    let index = 0;
    while (used.has(index)) index++;
    return this.create(key, index);
  }

  /** A slot saved by an earlier run; undefined when its bot id cannot be made now. */
  restore(saved: PersistedSlot): SlotState | undefined {
    const { log } = this.options;
    const created = this.create(saved.key, saved.index);
    if (!created.ok) {
      log.error({ slot: saved.key, reason: created.reason }, 'dropping a saved slot');
      return undefined;
    }
    const slot = created.value;
    if (slot.botId !== saved.botId) {
      log.warn({ slot: slot.key, was: saved.botId, now: slot.botId }, 'bot id changed');
    }
    slot.lastDimensions = saved.dimensions;
    return slot;
  }

  /**
   * What the store should hold, or undefined when it holds it already. It is asked after every
   * change of any slot: dimensions are replaced, never changed in place, so the same dimension
   * objects in the same slots need no serialising (the common case: a refresh that changed a
   * battery reading); only new objects are compared as text.
   */
  toSave(): PersistedSlot[] | undefined {
    if (this.sameAsCompared()) return undefined;
    const slots = this.all().flatMap(({ key, index, botId, lastDimensions }) =>
      lastDimensions === undefined ? [] : [{ key, index, botId, dimensions: lastDimensions }],
    );
    this.compared = slots;
    this.comparedByKey = new Map(slots.map((slot) => [slot.key, slot]));
    const text = JSON.stringify(slots);
    if (text === this.persisted) return undefined;
    this.persisted = text;
    return slots;
  }

  /**
   * Whether the slots with dimensions are those last compared, with the same index, bot id and
   * dimension objects: asked after every change of any slot (a task hook's among them), so it
   * builds no list. Keys are unique, so equal counts mean the same set, and the same order.
   */
  private sameAsCompared(): boolean {
    let count = 0;
    for (const slot of this.byKey.values()) {
      if (slot.lastDimensions === undefined) continue;
      const other = this.comparedByKey.get(slot.key);
      if (
        other?.index !== slot.index ||
        other.botId !== slot.botId ||
        other.dimensions !== slot.lastDimensions
      ) {
        return false;
      }
      count++;
    }
    return count === this.compared.length;
  }

  private create(key: string, index: number): Reading<SlotState> {
    const { botIdPattern, node, noDevice } = this.options;
    const id = botIdFor(botIdPattern, { node, slot: key, index });
    if (!id.ok) return { ok: false, reason: `slot ${key}: ${id.reason}` };
    const slot: SlotState = {
      key,
      name: slotName(key),
      index,
      botId: id.botId,
      dimensions: noDevice,
      propsStale: true,
      bootCompleted: false,
      readingErrors: {},
      overrides: {},
      taskRunning: false,
      asleep: false,
      poweredOff: false,
      resting: false,
    };
    this.byKey.set(key, slot);
    return { ok: true, value: slot };
  }
}
