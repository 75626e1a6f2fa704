import type { RecoveryThresholds } from '../config/recovery-thresholds.js';
import type { WearThresholds } from '../config/battery-care.js';
import type { SlotMetrics } from './slot-metrics.js';
import type { SlotRegistry } from './slot-registry.js';
import { changedSince, derive, snapshot } from './slot-state.js';
import type { BotSlot, Slot, SlotState } from './slot-state.js';
import type { SlotPersistence } from './slot-store.js';
import type { DeviceDimensions } from './swarming-dimensions.js';

export interface SlotPublisherOptions {
  registry: SlotRegistry;
  store: SlotPersistence;
  metrics: SlotMetrics;
  noDevice: DeviceDimensions;
  thresholds?: RecoveryThresholds | undefined;
  wear?: WearThresholds | undefined;
  /** Background work the slot manager waits for on stop (the store's writes). */
  track: (work: Promise<void>) => void;
}

/**
 * What follows a change of a slot: its health and dimensions derived again, then
 * told to whoever cares — slot listeners and metrics when what they see changed,
 * the store, and bot listeners when the set of bots changed.
 *
 * Slot listeners come in two kinds. Those that act on the slot (the hooks' readiness wait,
 * charge control, the power-on watch, recovery steps, operator overrides) are told at once,
 * before `changed` returns: nothing else may happen before they have seen the change. Those
 * that only report it (the slot and battery series, the cluster's Lease and Events, the
 * port's first read) are told after the current turn of the event loop, every change in
 * order, so that a task hook's answer, written in this turn, does not wait for them.
 */
export class SlotPublisher {
  private readonly slotListeners = new Set<(slot: Slot) => void>();
  private readonly reportListeners = new Set<(slot: Slot) => void>();
  private readonly botListeners = new Set<(bots: BotSlot[]) => void>();
  private botsShown: readonly BotSlot[] = [];
  /**
   * Changes not yet reported, oldest first, each with the report listeners there were when it
   * was made: one that subscribes later has not missed it (it reads the slots as they are now).
   */
  private readonly toReport: { shown: Slot; listeners: ((slot: Slot) => void)[] }[] = [];

  constructor(private readonly options: SlotPublisherOptions) {}

  /** One Swarming bot per slot, in slot order (read off the slots: no snapshot needed). */
  bots(): BotSlot[] {
    return this.options.registry
      .all()
      .map(({ botId, key, serial }) =>
        serial === undefined ? { botId, slot: key } : { botId, slot: key, serial },
      );
  }

  onSlotChanged(listener: (slot: Slot) => void): () => void {
    this.slotListeners.add(listener);
    return () => this.slotListeners.delete(listener);
  }

  /** Told of every change after the turn that made it (see the class comment). */
  onSlotReported(listener: (slot: Slot) => void): () => void {
    this.reportListeners.add(listener);
    return () => this.reportListeners.delete(listener);
  }

  onBotsChanged(listener: (bots: BotSlot[]) => void): () => void {
    this.botListeners.add(listener);
    return () => this.botListeners.delete(listener);
  }

  /**
   * `adbDown`: why the adb server cannot be asked now, which every slot shows; `now` dates a
   * state other than ready.
   */
  changed(slot: SlotState, adbDown: string | undefined, now: number): void {
    derive(slot, adbDown, this.options.noDevice, this.options.thresholds, this.options.wear, now);
    const shown = snapshot(slot);
    const emitted = changedSince(slot.emitted, shown);
    if (emitted !== undefined) {
      slot.emitted = emitted;
      for (const listener of [...this.slotListeners]) listener(shown);
      this.report(shown);
    }
    this.persist();
    this.announceBots();
  }

  private report(shown: Slot): void {
    this.toReport.push({ shown, listeners: [...this.reportListeners] });
    if (this.toReport.length === 1) setImmediate(() => this.tellReports());
  }

  /** A listener gone since the change (a stopped reporter) is not told of it. */
  private tellReports(): void {
    for (const { shown, listeners } of this.toReport.splice(0)) {
      this.options.metrics.show(shown);
      for (const listener of listeners) if (this.reportListeners.has(listener)) listener(shown);
    }
  }

  private persist(): void {
    const slots = this.options.registry.toSave();
    if (slots !== undefined) this.options.track(this.options.store.save(slots));
  }

  /** Runs after every change of any slot: compares fields, never serialises every slot. */
  private announceBots(): void {
    const bots = this.bots();
    if (sameBots(bots, this.botsShown)) return;
    this.botsShown = bots;
    for (const listener of [...this.botListeners]) listener(bots);
  }
}

function sameBots(a: readonly BotSlot[], b: readonly BotSlot[]): boolean {
  return (
    a.length === b.length &&
    a.every((bot, i) => {
      const other = b[i];
      return bot.botId === other?.botId && bot.slot === other.slot && bot.serial === other.serial;
    })
  );
}
