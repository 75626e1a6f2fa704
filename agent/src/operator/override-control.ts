import type { Logger } from 'pino';
import {
  hostOverridesOf,
  noOverrideSources,
  overridesBySlot,
  overridesForSlot,
  withLocalOverride,
  type OverrideSources,
} from './override-sources.js';
import type { OperatorOverrides, OverrideKind, OverrideSet } from './overrides.js';

/** Writes an override where the cluster keeps it (a Node annotation). */
export type ClusterOverrideWriter = (
  kind: OverrideKind,
  slotName: string | undefined,
  reason: string | undefined,
) => Promise<void>;

export interface OverrideControlOptions {
  /** Hands the merged overrides to the devices (now, and for slots that appear later). */
  apply: (forSlot: (slotName: string) => OverrideSet) => void;
  logger: Logger;
}

/**
 * Holds the three override sources and applies their merge whenever one
 * changes. An operator command goes to the cluster when there is one (durable,
 * visible to `kubectl`, applied when it reads back); standalone it is kept
 * locally until the agent restarts.
 */
export class OverrideControl {
  private sources: OverrideSources = noOverrideSources();
  private clusterWriter: ClusterOverrideWriter | undefined;
  /**
   * Each slot's merge of `merged`, the sources as they were when it was made: the devices ask
   * on every change of a slot (a task starting, a battery reading), the sources rarely change.
   */
  private readonly perSlot = new Map<string, OverrideSet>();
  private merged: OverrideSources | undefined;

  constructor(private readonly options: OverrideControlOptions) {}

  /** The Pi's own maintenance reason (undefined when healthy). */
  hostMaintenance(reason: string | undefined): void {
    this.update({ ...this.sources, host: hostOverridesOf(reason) });
  }

  /** From now on, operator commands are written to the cluster. */
  useCluster(writer: ClusterOverrideWriter): void {
    this.clusterWriter = writer;
  }

  /** What the cluster currently says (read back from the Node's annotations). */
  clusterRead(cluster: OperatorOverrides): void {
    this.update({ ...this.sources, cluster });
  }

  async set(
    kind: OverrideKind,
    slotName: string | undefined,
    reason: string | undefined,
  ): Promise<void> {
    this.options.logger.warn(
      { kind, slot: slotName ?? 'all', reason: reason ?? null },
      reason === undefined ? `${kind} cleared by operator` : `${kind} set by operator`,
    );
    if (this.clusterWriter) {
      await this.clusterWriter(kind, slotName, reason);
      return;
    }
    this.update(withLocalOverride(this.sources, kind, slotName, reason));
  }

  bySlot(slotNames: readonly string[]): Record<string, OverrideSet> {
    return overridesBySlot(this.sources, slotNames);
  }

  private update(next: OverrideSources): void {
    this.sources = next;
    this.options.apply((slot) => this.forSlot(slot));
  }

  private forSlot(slot: string): OverrideSet {
    if (this.merged !== this.sources) {
      this.perSlot.clear();
      this.merged = this.sources;
    }
    let set = this.perSlot.get(slot);
    if (set === undefined) this.perSlot.set(slot, (set = overridesForSlot(this.sources, slot)));
    return set;
  }
}
