/**
 * Carries out the rollout steps (rollout-plan.ts) against the cluster: reads the DaemonSet, its
 * ControllerRevisions and its pods, then drains (node-wide maintenance annotation), deletes a
 * pod (only the one with the uid it chose), lifts the drain, and reports each step as an Event
 * regarding the Node, beside the agent's own.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { errorMessage, type Clock } from '@farm-agent/bot-config/lib';
import type { V1ControllerRevision, V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { PREFIX } from '../cluster/cluster-model.js';
import { eventBody } from '../cluster/event-queue.js';
import { isStatus } from '../cluster/kube-errors.js';
import type { FleetNode } from './fleet-model.js';
import type { GateKubeApi } from './gate-kube.js';
import {
  nextRolloutStep,
  type AgentPod,
  type RolloutAction,
  type RolloutState,
  type RolloutStep,
} from './rollout-plan.js';

export const MAINTENANCE_ANNOTATION = `${PREFIX}/maintenance`;
const HASH_LABEL = 'controller-revision-hash';
/** Events regarding a Node live in `default`, as the agent's do. */
const NODE_EVENTS_NAMESPACE = 'default';

export interface RolloutOptions {
  api: Pick<
    GateKubeApi,
    | 'getDaemonSet'
    | 'listControllerRevisions'
    | 'listPods'
    | 'deletePod'
    | 'patchNode'
    | 'createEvent'
  >;
  namespace: string;
  daemonSet: string;
  maxWaitMs: number;
  /** The gate's pod, as the Events' reporting instance. */
  podName: string;
  clock: Clock;
  logger: Logger;
}

/** The DaemonSet's current revision: the newest of its ControllerRevisions. */
export function currentHash(
  ds: V1DaemonSet,
  revisions: readonly V1ControllerRevision[],
): string | undefined {
  const own = revisions.filter((r) =>
    r.metadata?.ownerReferences?.some((o) => o.uid === ds.metadata?.uid),
  );
  const newest = own.sort((a, b) => b.revision - a.revision)[0];
  return newest?.metadata?.labels?.[HASH_LABEL];
}

export function agentPod(pod: V1Pod): AgentPod | undefined {
  const name = pod.metadata?.name;
  const node = pod.spec?.nodeName;
  if (name === undefined || node === undefined || pod.metadata?.deletionTimestamp) return undefined;
  return {
    name,
    uid: pod.metadata?.uid ?? '',
    node,
    hash: pod.metadata?.labels?.[HASH_LABEL],
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
  };
}

function selectorOf(ds: V1DaemonSet): string {
  return Object.entries(ds.spec?.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export class Rollout {
  private state: RolloutState = { phase: 'idle' };
  private lastError: string | undefined;
  paused = false;

  constructor(private readonly options: RolloutOptions) {}

  status(): Record<string, unknown> {
    const { state } = this;
    return {
      daemonSet: this.options.daemonSet,
      paused: this.paused,
      phase: state.phase,
      ...(state.phase === 'idle'
        ? {}
        : {
            node: state.node,
            pod: state.pod.name,
            since: new Date(state.since).toISOString(),
          }),
      ...(this.lastError === undefined ? {} : { error: this.lastError }),
    };
  }

  /** One round: read, decide, act. Never throws: a failed round is retried at the next. */
  async round(fleet: readonly FleetNode[]): Promise<RolloutStep | undefined> {
    if (this.paused) return undefined;
    const { api, namespace, daemonSet, clock, logger, maxWaitMs } = this.options;
    try {
      const ds = await api.getDaemonSet(namespace, daemonSet);
      const selector = selectorOf(ds);
      const [revisions, pods] = await Promise.all([
        api.listControllerRevisions(namespace, selector),
        api.listPods(namespace, selector),
      ]);
      const world = {
        currentHash: currentHash(ds, revisions),
        pods: pods.flatMap((p) => agentPod(p) ?? []),
        fleet,
      };
      const step = nextRolloutStep(this.state, world, clock.now(), maxWaitMs);
      if (step.action !== undefined) await this.act(step.action);
      this.state = step.state;
      if (step.event !== undefined) await this.report(step.event);
      this.lastError = undefined;
      return step;
    } catch (err) {
      const error = errorMessage(err);
      if (error !== this.lastError) logger.warn({ err: error }, 'rollout round failed');
      this.lastError = error;
      return undefined;
    }
  }

  private async act(action: RolloutAction): Promise<void> {
    const { api, namespace, logger } = this.options;
    logger.info({ action }, 'rollout');
    if (action.type === 'delete') {
      try {
        await api.deletePod(namespace, action.pod.name, action.pod.uid);
      } catch (err) {
        // Gone already, or replaced by someone else: either way this pod is not running.
        if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
      }
      return;
    }
    const value = action.type === 'drain' ? action.reason : null;
    await api.patchNode(action.node, {
      metadata: { annotations: { [MAINTENANCE_ANNOTATION]: value } },
    });
  }

  private async report(e: NonNullable<RolloutStep['event']>): Promise<void> {
    const { api, podName, clock, logger } = this.options;
    const name = `${e.node}.gate-${randomBytes(6).toString('hex')}`;
    try {
      await api.createEvent(
        NODE_EVENTS_NAMESPACE,
        eventBody(
          { node: e.node, podName },
          name,
          { type: e.type, reason: e.reason, note: e.note },
          clock.now(),
        ),
      );
    } catch (err) {
      logger.warn({ err: errorMessage(err), event: e }, 'cannot report a rollout Event');
    }
  }
}
