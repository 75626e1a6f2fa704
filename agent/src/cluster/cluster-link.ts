import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/settings.js';
import type { Slot } from '../devices/slot-state.js';
import type { HostMonitor } from '../host/host-monitor.js';
import type { LifecycleState } from '../lifecycle/idle-counter.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import { slotName } from '../devices/slot.js';
import { slotTransitionEvent } from './slot-transitions.js';
import { ClusterReporter } from './cluster-reporter.js';
import { KubeApi } from './kube-client.js';
import { loadKubeConfig } from './kube-config.js';
import { agentAddress, clusterSnapshot, restoredLifecycle } from './snapshot.js';

/** The agent's parts the cluster is told about. */
export interface ClusterParts {
  slots: () => Slot[];
  onSlotChanged: (listener: (slot: Slot) => void) => () => void;
  lifecycle: Lifecycle | undefined;
  host: HostMonitor;
}

/** The Kubernetes API, or why there is none (no in-cluster service account, no kubeconfig, a bad one). */
export function openKubeApi(kubeconfig: string | undefined, logger: Logger): KubeApi | string {
  // Only FARM_KUBECONFIG, never a developer's KUBECONFIG: `npm start` in a
  // shell pointed at some cluster must not start reporting to it.
  const env = { ...process.env, KUBECONFIG: undefined };
  const loaded = loadKubeConfig(
    kubeconfig === undefined ? { env } : { env, kubeconfigPath: kubeconfig },
  );
  if (loaded.connection === undefined) return loaded.reason;
  const api = new KubeApi(loaded.connection);
  logger.info({ source: loaded.source, server: loaded.server }, 'reporting to the cluster');
  return api;
}

/** What this node reports through the API: a snapshot of the agent's parts, on the configured schedule. */
export function clusterReporter(
  api: KubeApi,
  config: Config,
  logger: Logger,
  registry: Registry,
  parts: ClusterParts,
): ClusterReporter {
  return new ClusterReporter({
    api,
    node: config.nodeName,
    namespace: config.namespace,
    podName: config.podName,
    snapshot: () =>
      clusterSnapshot(
        config.nodeName,
        parts.slots(),
        parts.lifecycle?.snapshot() ?? {},
        parts.host.current().facts,
        agentAddress(config.hostIp, config.httpPort),
      ),
    logger: logger.child({ component: 'cluster' }),
    registry,
    renewIntervalMs: config.leaseRenewInterval,
    leaseDurationSeconds: Math.max(1, Math.ceil((4 * config.leaseRenewInterval) / 1000)),
    overridesPollMs: config.overridesPoll,
  });
}

/**
 * The agent's link to Kubernetes: feeds the reporter from the agent's parts,
 * and turns slot and lifecycle transitions into Events. Without a cluster it
 * is never created and the agent runs standalone.
 */
export class ClusterLink {
  private readonly unsubscribe: (() => void)[] = [];
  private readonly lastState = new Map<string, string>();

  constructor(
    readonly reporter: ClusterReporter,
    private readonly parts: ClusterParts,
  ) {}

  /** The idle counters and sleep state the Lease remembered from before a restart. */
  async restoredLifecycle(): Promise<LifecycleState> {
    return restoredLifecycle(await this.reporter.restore(), this.parts.slots());
  }

  start(): void {
    const { reporter, parts } = this;
    for (const slot of parts.slots()) this.lastState.set(slot.key, slot.health.state);
    this.unsubscribe.push(
      parts.onSlotChanged((slot) => {
        const transition = slotTransitionEvent(this.lastState.get(slot.key), slot.health.state);
        this.lastState.set(slot.key, slot.health.state);
        if (transition) {
          const { state, reason, suggestedAction } = slot.health;
          // A Warning says what to do about it, as the slot does in /status.
          const action =
            transition.type === 'Warning' && suggestedAction ? ` ${suggestedAction}` : '';
          const note = `${slot.botId}: ${state}${reason ? ` (${reason})` : ''}${action}`;
          reporter.event({ ...transition, note, slot: slot.name });
        }
        reporter.changed();
      }),
      parts.host.onMaintenanceChange(() => reporter.changed()),
    );
    if (parts.lifecycle) {
      this.unsubscribe.push(
        parts.lifecycle.onChange(() => reporter.changed()),
        parts.lifecycle.onEvent((e) =>
          reporter.event({
            type: 'Normal',
            reason: e.type === 'slept' ? 'Slept' : 'Woke',
            note: `${slotName(e.slot)} ${e.type} (${e.reason})`,
            slot: slotName(e.slot),
          }),
        ),
      );
    }
    reporter.start();
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    await this.reporter.stop();
  }
}
