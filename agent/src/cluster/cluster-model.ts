/**
 * What the agent tells the cluster, as the reporter receives it, and the prefix every farm-agent
 * key on a Node or Lease shares. The rules on what to write live beside it, pure and
 * table-tested: node-labels.ts, lease-annotations.ts, override-annotations.ts,
 * slot-transitions.ts.
 */

import type { LifecycleState } from '../lifecycle/idle-counter.js';

export const PREFIX = 'farm-agent.io';
/** Each agent's heartbeat Lease is named after its node: `farm-agent-<node>`. */
export const LEASE_NAME_PREFIX = 'farm-agent-';

/** What the agent tells the cluster, provided on demand. */
export interface ClusterSnapshot {
  node: string;
  lifecycle: LifecycleState;
  slots: SnapshotSlot[];
  /** Host facts (model, temperatures, disk...), small. */
  host?: Record<string, unknown>;
  /** `host:port` of the agent's cluster listener, for the farm gate. */
  address?: string;
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
  serial?: string;
  /** A task runs on it, whatever its state says (maintenance hides busy). */
  taskRunning?: boolean;
  /** The phone's Swarming dimensions, non-empty ones only (what the gate matches /wake on). */
  dimensions?: Record<string, string[]>;
  uptimeSeconds?: number;
}
