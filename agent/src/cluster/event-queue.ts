/**
 * The Events the agent reports regarding its Node: what each one says (eventBody, pure), folding
 * repeats into series (EventDeduper), and a bounded queue that keeps them while the API is away
 * and delivers them oldest first once it is back.
 */
import { randomBytes } from 'node:crypto';
import type { EventsV1Event } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { MicroTime } from './micro-time.js';
import { EventDeduper } from './event-dedupe.js';
import type { EventSummary, ReportedEvent } from './event-dedupe.js';
import { normaliseError } from './kube-errors.js';

/** events.k8s.io regarding a Node: `default` (or kube-system), whatever the agent's namespace. */
const EVENT_NAMESPACE = 'default';
const REPORTING_CONTROLLER = 'farm-agent.io/farm-agent';
/** reportingInstance, action and reason are limited to 128 characters, the note to 1024. */
const EVENT_FIELD_MAX = 128;
const NOTE_MAX = 1024;

export interface EventSource {
  /** The Node the Events are about. */
  node: string;
  /** The reporting instance. */
  podName: string;
}

/** The Event `e` (observed at `at`, or summarising a series) as the API takes it, named `name`. */
export function eventBody(
  source: EventSource,
  name: string,
  e: ReportedEvent,
  at: number,
  summary?: EventSummary,
): EventsV1Event {
  const clip = (s: string, max: number): string => s.slice(0, max);
  const note = e.slot === undefined ? e.note : `${e.slot}: ${e.note}`;
  return {
    metadata: { name },
    eventTime: new MicroTime(at),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: clip(source.podName, EVENT_FIELD_MAX),
    action: clip(e.reason, EVENT_FIELD_MAX),
    reason: clip(e.reason, EVENT_FIELD_MAX),
    type: e.type,
    note: clip(note, NOTE_MAX),
    regarding: { apiVersion: 'v1', kind: 'Node', name: source.node },
    ...(summary === undefined
      ? {}
      : { series: { count: summary.count, lastObservedTime: new MicroTime(summary.lastAt) } }),
  };
}

export interface EventQueueOptions extends EventSource {
  /** Repeats within this window fold into one series. */
  dedupeWindowMs: number;
  /** Beyond this many waiting Events the oldest is dropped. */
  maxPending: number;
  registry: Registry;
  logger: Logger;
}

export class EventQueue {
  private readonly dedupe: EventDeduper;
  private readonly pending: EventsV1Event[] = [];
  private readonly dropped: Counter<'cause'>;
  /** Event names: node, time, this process, sequence — unique without asking the server. */
  private readonly instance = randomBytes(3).toString('hex');
  private seq = 0;

  constructor(private readonly options: EventQueueOptions) {
    this.dedupe = new EventDeduper(options.dedupeWindowMs);
    this.dropped = new Counter({
      name: 'farm_kube_events_dropped_total',
      help: 'Events not delivered: queue full while the API was away, or refused by the API.',
      labelNames: ['cause'],
      registers: [options.registry],
    });
  }

  /** Queues `e` unless it repeats one within the window (then it counts towards a series). */
  offer(e: ReportedEvent, now: number): void {
    this.expire(now);
    if (this.dedupe.offer(e, now)) this.enqueue(this.build(e, now));
  }

  /** Queues the summaries of the series whose window has closed by `now`. */
  expire(now: number): void {
    for (const s of this.dedupe.expire(now)) this.enqueue(this.build(s.event, s.firstAt, s));
  }

  get size(): number {
    return this.pending.length;
  }

  /** When the queue has work: now if anything waits, else when the next series closes. */
  nextDue(now: number): number | undefined {
    const due = [this.pending.length > 0 ? now : undefined, this.dedupe.nextExpiry()];
    const defined = due.filter((t): t is number => t !== undefined);
    return defined.length === 0 ? undefined : Math.min(...defined);
  }

  /**
   * Sends the queue oldest first; one the API refuses for good is dropped rather than blocking
   * the rest. Throws (keeping the rest queued) on a failure that may pass.
   */
  async flush(
    create: (namespace: string, event: EventsV1Event) => Promise<unknown>,
  ): Promise<void> {
    for (let event = this.pending[0]; event !== undefined; event = this.pending[0]) {
      try {
        await create(EVENT_NAMESPACE, event);
      } catch (e) {
        const err = normaliseError(e);
        // The name is fixed when queued: AlreadyExists means an earlier try got through.
        if (err.retryable) throw err;
        if (err.reason !== 'AlreadyExists') {
          this.dropped.inc({ cause: 'refused' });
          this.options.logger.error(
            { err: err.message, event: event.reason },
            'event refused: dropped',
          );
        }
      }
      this.pending.shift();
    }
  }

  private build(e: ReportedEvent, at: number, summary?: EventSummary): EventsV1Event {
    this.seq += 1;
    const name = `${this.options.node.slice(0, 200)}.${at.toString(16)}.${this.instance}${this.seq.toString(16)}`;
    return eventBody(this.options, name, e, at, summary);
  }

  private enqueue(event: EventsV1Event): void {
    this.pending.push(event);
    if (this.pending.length > this.options.maxPending) {
      const dropped = this.pending.shift();
      this.dropped.inc({ cause: 'queue-full' });
      this.options.logger.warn(
        { reason: dropped?.reason, note: dropped?.note },
        'event queue full: dropped the oldest',
      );
    }
  }
}
