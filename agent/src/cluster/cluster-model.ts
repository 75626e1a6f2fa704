/**
 * What the agent tells the cluster, as the reporter receives it, and the prefix every farm-agent
 * key on a Node or Lease shares. The rules on what to write live beside it, pure and
 * table-tested: node-labels.ts, lease-annotations.ts, override-annotations.ts,
 * slot-transitions.ts.
 */

import type { LifecycleState } from '../lifecycle/idle-counter.js';

export const PREFIX = 'farm-agent.io';

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
  /** Short: what is wrong, for states other than ready. */
  diagnosis?: string;
  deviceType?: string;
  model?: string;
  batteryPercent?: number;
  temperatureC?: number;
}
