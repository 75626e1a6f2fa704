/**
 * The agent's view, told to Kubernetes: a heartbeat Lease per node carrying the lifecycle and a
 * device inventory, scheduling labels on the Node, Events regarding the Node, and the operator's
 * override annotations read back from it.
 *
 * The API server is a nice-to-have for the phones: every call happens on one background loop
 * (plus the operator's own setOverride), errors are retried with backoff and jitter, and nothing
 * the agent calls ever waits for the API or throws. While the API is away, the reporter keeps
 * what it knows (overrides, pending Events) and converges once it is back.
 *
 * This class wires the parts and runs the rounds: report-schedule.ts decides when, lease-writer.ts,
 * node-sync.ts and event-queue.ts what to write, kube-requests.ts accounts for every call.
 */
import type { BackoffOptions } from '@farm-agent/bot-config/lib';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { SerialQueue, systemClock } from '@farm-agent/bot-config/lib';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { LifecycleState } from '../lifecycle/idle-counter.js';
import type { OperatorOverrides, OverrideKind } from '../operator/overrides.js';
import type { ClusterSnapshot } from './cluster-model.js';
import { parseLeaseLifecycle } from './lease-annotations.js';
import { computeLabels } from './node-labels.js';
import { ConditionWriter } from './condition-writer.js';
import type { ReportedEvent } from './event-dedupe.js';
import { EventQueue } from './event-queue.js';
import type { KubeApiError } from './kube-errors.js';
import { normaliseError, serverAway } from './kube-errors.js';
import type { KubeApi } from './kube-client.js';
import { KubeRequests } from './kube-requests.js';
import { LEASE_NAME_PREFIX } from './cluster-model.js';
import { LeaseWriter } from './lease-writer.js';
import { NodeSync } from './node-sync.js';
import { ReportSchedule } from './report-schedule.js';
import { WakeLoop } from './wake-loop.js';

export type { ClusterSnapshot } from './cluster-model.js';
export type { OperatorOverrides } from '../operator/overrides.js';

/** The calls the reporter makes; a KubeApi in the agent. */
export type ReporterApi = Pick<
  KubeApi,
  | 'getLease'
  | 'createLease'
  | 'replaceLease'
  | 'getNode'
  | 'patchNode'
  | 'patchNodeStatus'
  | 'createEvent'
>;

export interface ClusterReporterOptions {
  api: ReporterApi;
  /** The Kubernetes node this agent runs on. */
  node: string;
  /** The agent's namespace: where the Lease lives. */
  namespace: string;
  /** The Lease holder. */
  podName: string;
  snapshot: () => ClusterSnapshot;
  logger: Logger;
  registry: Registry;
  clock?: Clock;
  /** Default 40. */
  leaseDurationSeconds?: number;
  /** Default 10 s. */
  renewIntervalMs?: number;
  /** How often the Node is read for operator overrides (and label drift). Default 30 s. */
  overridesPollMs?: number;
  /** How often an unchanged FarmPhonesReady condition is written again. Default 5 min. */
  conditionHeartbeatMs?: number;
  /** Quiet time after a change before writing it. Default 1 s. */
  changeDebounceMs?: number;
  /** At most one change-driven write round per this period, however much churn. Default 5 s. */
  minChangeIntervalMs?: number;
  /** Repeats of an Event within this window are folded into one series. Default 5 min. */
  eventDedupeWindowMs?: number;
  /** Events waiting for the API beyond this are dropped, oldest first. Default 100. */
  maxPendingEvents?: number;
  /** Retry of a failed round. Default 1 s doubling to 30 s, half jitter. */
  backoff?: BackoffOptions;
}

export interface ClusterStatus {
  /** The API answered the last request (false until the first answer). */
  reachable: boolean;
  lastError?: string;
  lastRenewAt?: string;
  writes: number;
  reads: number;
  /** Since the overrides were last read from the Node; undefined if never. */
  overridesAgeSeconds?: number;
  pendingEvents: number;
}

export type EventInput = ReportedEvent;

export class ClusterReporter {
  private readonly api: ReporterApi;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly schedule: ReportSchedule;
  private readonly events: EventQueue;
  private readonly requests: KubeRequests;
  private readonly lease: LeaseWriter;
  private readonly nodeSync: NodeSync;
  private readonly condition: ConditionWriter;

  private restored: LifecycleState | undefined;
  private lastSnapshot: ClusterSnapshot | undefined;

  private readonly loop: WakeLoop;
  /** API work one call at a time: the loop's rounds and the operator's setOverride. */
  private readonly queue = new SerialQueue();

  constructor(private readonly options: ClusterReporterOptions) {
    this.api = options.api;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'cluster' });
    this.schedule = new ReportSchedule({
      renewIntervalMs: options.renewIntervalMs ?? 10_000,
      pollMs: options.overridesPollMs ?? 30_000,
      debounceMs: options.changeDebounceMs ?? 1_000,
      minChangeIntervalMs: options.minChangeIntervalMs ?? 5_000,
      backoff: options.backoff ?? { initialMs: 1_000, maxMs: 30_000 },
    });
    this.events = new EventQueue({
      node: options.node,
      podName: options.podName,
      dedupeWindowMs: options.eventDedupeWindowMs ?? 5 * 60_000,
      maxPending: options.maxPendingEvents ?? 100,
      registry: options.registry,
      logger: this.logger,
    });
    // Back after an outage: read the Node again soon (overrides, labels someone changed).
    this.requests = new KubeRequests(options.registry, this.logger, () => {
      if (this.nodeSync.lastReadAt !== undefined) this.schedule.pollSoon();
    });
    this.lease = new LeaseWriter({
      api: options.api,
      namespace: options.namespace,
      requests: this.requests,
      name: `${LEASE_NAME_PREFIX}${options.node}`,
      holder: options.podName,
      durationSeconds: options.leaseDurationSeconds ?? 40,
    });
    this.nodeSync = new NodeSync({
      api: options.api,
      node: options.node,
      requests: this.requests,
      exclusive: (fn) => this.queue.run(fn),
      clock: this.clock,
      logger: this.logger,
    });
    this.condition = new ConditionWriter({
      api: options.api,
      node: options.node,
      requests: this.requests,
      heartbeatMs: options.conditionHeartbeatMs ?? 5 * 60_000,
    });
    this.loop = new WakeLoop(
      this.clock,
      () => this.step(),
      () => {
        const now = this.clock.now();
        return this.schedule.nextDue(now, this.events.nextDue(now));
      },
    );
  }

  /**
   * The lifecycle the previous agent left in the Lease, read once before the lifecycle starts.
   * Never throws: undefined when the API is unreachable, the Lease absent or unreadable.
   */
  async restore(): Promise<LifecycleState | undefined> {
    try {
      const lease = await this.queue.run(() => this.lease.read());
      this.restored = parseLeaseLifecycle(lease.metadata?.annotations);
      this.logger.info({ lifecycle: this.restored }, 'lifecycle restored from the Lease');
      return this.restored;
    } catch (e) {
      const err = normaliseError(e);
      if (err.status !== 404) this.logger.warn({ err: err.message }, 'cannot restore the Lease');
      return undefined;
    }
  }

  start(): void {
    this.loop.start();
  }

  /** Ends the loop after the call in flight, if any (each call has its own timeout). */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  changed(): void {
    this.schedule.changed(this.clock.now());
    this.loop.wake();
  }

  event(e: EventInput): void {
    this.events.offer(e, this.clock.now());
    this.loop.wake();
  }

  /** Whether the farm gate holds this slot awake, as of the last Node read. */
  heldAwake(slotName: string): boolean {
    return this.nodeSync.heldAwake(slotName);
  }

  /** Called at once with the current overrides if known, then on every change. */
  onOverrides(listener: (o: OperatorOverrides) => void): () => void {
    return this.nodeSync.onOverrides(listener);
  }

  setOverride(
    kind: OverrideKind,
    slot: string | undefined,
    reason: string | undefined,
  ): Promise<void> {
    return this.nodeSync.setOverride(kind, slot, reason);
  }

  status(): ClusterStatus {
    const now = this.clock.now();
    const { reachable, lastError, writes, reads } = this.requests.stats();
    const renewAt = this.schedule.lastRenewAt;
    const readAt = this.nodeSync.lastReadAt;
    return {
      reachable,
      ...(lastError === undefined ? {} : { lastError }),
      ...(renewAt === undefined ? {} : { lastRenewAt: new Date(renewAt).toISOString() }),
      writes,
      reads,
      ...(readAt === undefined ? {} : { overridesAgeSeconds: Math.round((now - readAt) / 1000) }),
      pendingEvents: this.events.size,
    };
  }

  // -------------------------------------------------------------------------------------------

  /** One round if it is due (not while backing off); failures set the backoff, never throw. */
  private async step(): Promise<void> {
    const now = this.clock.now();
    if (!this.schedule.mayRun(now)) return;
    try {
      await this.queue.run(() => this.round(now));
      this.schedule.succeeded();
    } catch (e) {
      const err = normaliseError(e);
      const delay = this.schedule.failed(this.clock.now(), err.retryAfterSeconds);
      this.logger.debug(
        { err: err.message, reason: err.reason, retryInMs: delay },
        'Kubernetes API round failed',
      );
    }
  }

  /**
   * Everything that is due. The parts are independent: one the API refuses (a 403 from a
   * missing RBAC rule, a Node that does not exist) must not starve the others, so its error is
   * kept and thrown at the end (the loop backs off); an API that is away ends the round at once.
   */
  private async round(now: number): Promise<void> {
    this.events.expire(now);
    const version = this.schedule.version;
    const snapshot = this.takeSnapshot();
    const changing = this.schedule.changing(now);
    if (changing) this.nodeSync.want(computeLabels(snapshot));
    const refused: KubeApiError[] = [];
    const part = async (fn: () => Promise<void>): Promise<boolean> => {
      try {
        await fn();
        return true;
      } catch (e) {
        const err = normaliseError(e);
        if (serverAway(err)) throw err;
        refused.push(err);
        return false;
      }
    };
    let wrote = false;
    const leaseDone = await part(async () => {
      const urgent = changing && this.lease.outdated(snapshot);
      if (!this.schedule.renewDue(now) && !urgent) return;
      await this.lease.renew(snapshot, now);
      this.schedule.renewed(now);
      wrote ||= urgent;
    });
    const labelsDone =
      !changing ||
      (await part(async () => {
        wrote = (await this.nodeSync.syncLabels()) || wrote;
      }));
    if (changing && leaseDone && labelsDone) this.schedule.synced(version);
    if (wrote) this.schedule.changeWritten(now);
    // In change rounds (rate-limited like the labels) if it changed, else at its heartbeat.
    await part(async () => {
      wrote = (await this.condition.sync(snapshot, now, changing)) || wrote;
    });
    if (this.schedule.pollDue(now)) {
      this.schedule.polled(now);
      await part(() => this.nodeSync.read(now));
    }
    await part(() =>
      this.events.flush((ns, event) =>
        this.requests.request('create', 'events', () => this.api.createEvent(ns, event)),
      ),
    );
    if (refused[0] !== undefined) throw refused[0];
  }

  /** The agent's snapshot; if it throws, the last good one (or the restored lifecycle). */
  private takeSnapshot(): ClusterSnapshot {
    try {
      this.lastSnapshot = this.options.snapshot();
    } catch (e) {
      this.logger.error({ err: (e as Error).message }, 'cluster snapshot failed; reusing the last');
    }
    return (
      this.lastSnapshot ?? { node: this.options.node, lifecycle: this.restored ?? {}, slots: [] }
    );
  }
}
