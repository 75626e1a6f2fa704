/**
 * The agent's side of its Node object: the scheduling labels (only what differs is patched, and
 * drift is repaired after each read) and the operator's override annotations (read back,
 * delivered to listeners when they change, written by setOverride).
 */
import type { V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { OperatorOverrides, OverrideKind } from '../operator/overrides.js';
import { parseHoldAwake } from './hold-awake.js';
import { normaliseError, serverAway } from './kube-errors.js';
import { labelPatch } from './node-labels.js';
import {
  overrideAnnotation,
  parseOverrides,
  REASON_MAX,
  sameOverrides,
} from './override-annotations.js';
import type { KubeApi } from './kube-client.js';
import type { KubeRequests } from './kube-requests.js';

export interface NodeSyncOptions {
  api: Pick<KubeApi, 'getNode' | 'patchNode'>;
  node: string;
  requests: Pick<KubeRequests, 'request'>;
  /** Runs API work one call at a time with the reporter's own rounds. */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  clock: Clock;
  logger: Logger;
}

export class NodeSync {
  /** The Node's labels as last read or patched: what a label write is compared with. */
  private labels: Record<string, string> | undefined;
  /** The labels last asked for; a read repairs drift towards them. */
  private desired: Record<string, string> | undefined;
  private overrides: OperatorOverrides | undefined;
  private readonly listeners = new Set<(o: OperatorOverrides) => void>();
  private readAt: number | undefined;
  private held: ReadonlySet<string> = new Set();

  constructor(private readonly options: NodeSyncOptions) {}

  /** When the Node was last read (or patched) successfully; undefined if never. */
  get lastReadAt(): number | undefined {
    return this.readAt;
  }

  /** Whether the farm gate holds this slot awake (the Node's hold-awake annotation). */
  heldAwake(slotName: string): boolean {
    return this.held.has(slotName);
  }

  want(labels: Record<string, string>): void {
    this.desired = labels;
  }

  /** Patches the labels that differ from the Node's; true if it wrote. */
  async syncLabels(): Promise<boolean> {
    if (this.desired === undefined) return false;
    const patch = labelPatch(this.desired, this.labels);
    if (patch === undefined) return false;
    const node = await this.patch({ metadata: { labels: patch } });
    this.labels = node.metadata?.labels ?? {};
    return true;
  }

  /** Reads the Node: overrides and labels as they are, then repairs label drift. */
  async read(now: number): Promise<void> {
    const { api, node, requests } = this.options;
    this.apply(await requests.request('get', 'nodes', () => api.getNode(node)), now);
    await this.syncLabels();
  }

  /** Called at once with the current overrides if known, then on every change. */
  onOverrides(listener: (o: OperatorOverrides) => void): () => void {
    this.listeners.add(listener);
    if (this.overrides !== undefined) this.deliver(listener, this.overrides);
    return () => this.listeners.delete(listener);
  }

  async setOverride(
    kind: OverrideKind,
    slot: string | undefined,
    reason: string | undefined,
  ): Promise<void> {
    const what = `${reason === undefined ? 'clear' : 'set'} ${kind}${slot === undefined ? ' on the node' : ` on slot ${slot}`}`;
    const annotation = overrideAnnotation(kind, slot);
    if ('error' in annotation) throw new Error(`cannot ${what}: ${annotation.error}`);
    const value = reason === undefined ? null : reason.slice(0, REASON_MAX);
    const patch = (): Promise<V1Node> =>
      this.options.exclusive(() =>
        this.patch({ metadata: { annotations: { [annotation.key]: value } } }),
      );
    let node: V1Node;
    try {
      // A kept-alive socket the server closed (it restarted) fails the first request with a
      // reset; the patch is idempotent, so one immediate retry tells that from a real outage.
      node = await patch().catch((e: unknown) => {
        if (normaliseError(e).reason === 'ConnectionReset') return patch();
        throw e;
      });
    } catch (e) {
      const err = normaliseError(e);
      const cause = serverAway(err)
        ? 'the Kubernetes API is unreachable'
        : `the Kubernetes API refused it (${String(err.status)})`;
      throw new Error(`cannot ${what}: ${cause}: ${err.reason}: ${err.message}`, { cause: err });
    }
    this.apply(node, this.options.clock.now());
  }

  private patch(mergePatch: Record<string, unknown>): Promise<V1Node> {
    const { api, node, requests } = this.options;
    return requests.request('patch', 'nodes', () => api.patchNode(node, mergePatch));
  }

  private apply(node: V1Node, now: number): void {
    this.labels = node.metadata?.labels ?? {};
    this.readAt = now;
    this.held = parseHoldAwake(node.metadata?.annotations);
    const { overrides, ignored } = parseOverrides(node.metadata?.annotations);
    const { logger } = this.options;
    if (ignored.length > 0) logger.warn({ ignored }, 'malformed override annotations');
    if (this.overrides !== undefined && sameOverrides(this.overrides, overrides)) return;
    this.overrides = overrides;
    logger.info({ overrides }, 'operator overrides changed');
    for (const listener of this.listeners) this.deliver(listener, overrides);
  }

  private deliver(listener: (o: OperatorOverrides) => void, overrides: OperatorOverrides): void {
    try {
      listener(structuredClone(overrides));
    } catch (e) {
      this.options.logger.error({ err: (e as Error).message }, 'overrides listener failed');
    }
  }
}
