/**
 * Updates that never kill a task, as Skia's podwatcher did: the DaemonSet is `OnDelete`, and the
 * gate replaces one agent pod at a time whose template is old (its controller-revision-hash is
 * not the DaemonSet's current revision): it drains the node (node-wide maintenance, so Swarming
 * sends no new task), waits until the agent reports no task running, deletes the pod, waits for
 * the new one to be ready and to renew the Lease, then lifts the maintenance. Past the maximum
 * wait it goes on anyway and says so in an Event. Pure: one step from the state and what the
 * gate last listed.
 */
import type { FleetNode } from './fleet-model.js';

export interface AgentPod {
  name: string;
  uid: string;
  node: string;
  /** The pod's controller-revision-hash label. */
  hash: string | undefined;
  ready: boolean;
}

export interface RolloutWorld {
  /** The DaemonSet's current revision hash; undefined when it cannot be told. */
  currentHash: string | undefined;
  pods: readonly AgentPod[];
  fleet: readonly FleetNode[];
}

interface Working {
  node: string;
  pod: AgentPod;
  since: number;
  /** The gate set the node's maintenance (and lifts it); false when someone else had. */
  ownMaintenance: boolean;
}

export type RolloutState =
  { phase: 'idle' } | ({ phase: 'draining' } & Working) | ({ phase: 'replacing' } & Working);

export interface RolloutEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

export type RolloutAction =
  | { type: 'drain'; node: string; reason: string }
  | { type: 'delete'; pod: AgentPod }
  | { type: 'undrain'; node: string };

export interface RolloutStep {
  state: RolloutState;
  action?: RolloutAction;
  event?: RolloutEvent & { node: string };
}

const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;

function drained(node: FleetNode | undefined, pod: AgentPod, since: number): boolean {
  // An agent that is not ready runs no bot, so no task.
  if (!pod.ready) return true;
  if (node?.heartbeat === undefined || node.heartbeat <= since) return false;
  return node.phones.every((p) => !p.taskRunning && p.state !== 'ready');
}

export function nextRolloutStep(
  state: RolloutState,
  world: RolloutWorld,
  now: number,
  maxWaitMs: number,
): RolloutStep {
  const fleetNode = (name: string) => world.fleet.find((n) => n.name === name);
  if (state.phase === 'idle') {
    const { currentHash } = world;
    if (currentHash === undefined) return { state };
    const busy = (name: string) =>
      fleetNode(name)?.phones.some((p) => p.taskRunning) === true ? 1 : 0;
    const old = world.pods
      .filter((p) => p.hash !== undefined && p.hash !== currentHash)
      .sort((a, b) => busy(a.node) - busy(b.node) || a.node.localeCompare(b.node));
    const pod = old[0];
    if (pod === undefined) return { state };
    const ownMaintenance = fleetNode(pod.node)?.maintenance === undefined;
    const reason = `farm gate: updating farm-agent to revision ${currentHash}`;
    return {
      state: { phase: 'draining', node: pod.node, pod, since: now, ownMaintenance },
      ...(ownMaintenance ? { action: { type: 'drain', node: pod.node, reason } } : {}),
      event: {
        node: pod.node,
        type: 'Normal',
        reason: 'Draining',
        note: `${pod.name} runs an old template (${String(pod.hash)}); no new tasks until it is replaced by revision ${currentHash}`,
      },
    };
  }
  const waited = now - state.since;
  if (state.phase === 'draining') {
    const pod = world.pods.find((p) => p.uid === state.pod.uid);
    if (pod === undefined) return { state: { ...state, phase: 'replacing', since: now } };
    // The pod goes either way once drained or waited for long enough; the Event says which.
    const replace = (type: 'Normal' | 'Warning', reason: string, note: string) => ({
      state: { ...state, phase: 'replacing' as const, since: now },
      action: { type: 'delete' as const, pod },
      event: { node: state.node, type, reason, note },
    });
    if (drained(fleetNode(state.node), pod, state.since)) {
      return replace('Normal', 'Replacing', `${pod.name} deleted: no task runs on ${state.node}`);
    }
    if (waited < maxWaitMs) return { state };
    return replace(
      'Warning',
      'RolloutProceeded',
      `${pod.name} deleted after waiting ${minutes(waited)} for ${state.node} to finish its tasks (FARM_GATE_ROLLOUT_MAX_WAIT); its agent drains what still runs for FARM_DRAIN_GRACE`,
    );
  }
  const node = fleetNode(state.node);
  const fresh = world.pods.find(
    (p) => p.node === state.node && p.uid !== state.pod.uid && p.hash === world.currentHash,
  );
  const done = fresh !== undefined && fresh.ready && node?.pod === fresh.name;
  if (!done && waited < maxWaitMs) return { state };
  const idle: RolloutState = { phase: 'idle' };
  const undrain: RolloutAction | undefined = state.ownMaintenance
    ? { type: 'undrain', node: state.node }
    : undefined;
  return {
    state: idle,
    ...(undrain === undefined ? {} : { action: undrain }),
    event: done
      ? {
          node: state.node,
          type: 'Normal',
          reason: 'Replaced',
          note: `${fresh.name} runs revision ${String(world.currentHash)} and reports; tasks may start again`,
        }
      : {
          node: state.node,
          type: 'Warning',
          reason: 'RolloutProceeded',
          note: `no ready agent of revision ${String(world.currentHash)} on ${state.node} after ${minutes(waited)}; going on to the next node`,
        },
  };
}
