import type { ClusterSnapshot } from './cluster-model.js';
import type { KubeApi } from './kube-client.js';
import type { KubeRequests } from './kube-requests.js';
import { PHONES_CONDITION, phonesCondition } from './phones-condition.js';
import type { PhonesCondition } from './phones-condition.js';

export interface ConditionWriterOptions {
  api: Pick<KubeApi, 'patchNodeStatus'>;
  node: string;
  requests: KubeRequests;
  /** How often an unchanged condition is written again, so its heartbeat shows it is current. */
  heartbeatMs: number;
}

/**
 * Keeps the Node's `FarmPhonesReady` condition current, the way
 * node-problem-detector keeps its own: written when it changes, and again
 * every heartbeat; `lastTransitionTime` moves only when the status does. A
 * strategic merge patch of nodes/status touches no other condition.
 */
export class ConditionWriter {
  private written: { condition: PhonesCondition; at: number; transitionAt: number } | undefined;

  constructor(private readonly options: ConditionWriterOptions) {}

  /**
   * Writes the condition if it changed (only in a change round, so churn is rate-limited
   * with the labels) or its heartbeat is due; true when it wrote.
   */
  async sync(snapshot: ClusterSnapshot, now: number, changeRound: boolean): Promise<boolean> {
    const condition = phonesCondition(snapshot.slots);
    const last = this.written;
    const same = last !== undefined && JSON.stringify(last.condition) === JSON.stringify(condition);
    const heartbeatDue = last === undefined || now - last.at >= this.options.heartbeatMs;
    if (!heartbeatDue && (same || !changeRound)) return false;
    const transitionAt =
      last !== undefined && last.condition.status === condition.status ? last.transitionAt : now;
    const { api, node, requests } = this.options;
    await requests.request('patch', 'nodes/status', () =>
      api.patchNodeStatus(node, {
        status: {
          conditions: [
            {
              type: PHONES_CONDITION,
              ...condition,
              lastHeartbeatTime: kubeTime(now),
              lastTransitionTime: kubeTime(transitionAt),
            },
          ],
        },
      }),
    );
    this.written = { condition, at: now, transitionAt };
    return true;
  }
}

/** metav1.Time: RFC 3339 in whole seconds, as the API server writes it back. */
function kubeTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
