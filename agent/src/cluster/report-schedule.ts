/**
 * When the reporter talks to the API, with no clock or I/O of its own (every method takes `now`):
 * the Lease renewal period, the Node read period, change rounds debounced and rate-limited, and
 * backoff after a failed round. The reporter asks what is due and says what it did; what to
 * write is decided elsewhere (lease-writer.ts, node-sync.ts, event-queue.ts).
 */
import { Backoff } from '@farm-agent/bot-config/lib';
import type { BackoffOptions } from '@farm-agent/bot-config/lib';

export interface ReportPeriods {
  renewIntervalMs: number;
  /** Between reads of the Node (overrides, label drift). */
  pollMs: number;
  /** Quiet time after a change before writing it. */
  debounceMs: number;
  /** At most one change-driven write round per this period. */
  minChangeIntervalMs: number;
  /** Retry of a failed round. */
  backoff: BackoffOptions;
}

export class ReportSchedule {
  private readonly backoff: Backoff;
  /** Changes counted as they come; `syncedVersion` is the last one fully written. */
  private changeVersion = 1;
  private syncedVersion = 0;
  private dirtySince = Number.NEGATIVE_INFINITY;
  private lastChangeWriteAt = Number.NEGATIVE_INFINITY;
  private renewedAt: number | undefined;
  private polledAt: number | undefined;
  private retryAt: number | undefined;

  constructor(private readonly periods: ReportPeriods) {
    this.backoff = new Backoff(periods.backoff);
  }

  /** Something the reports show changed at `now`. */
  changed(now: number): void {
    if (this.changeVersion === this.syncedVersion) this.dirtySince = now;
    this.changeVersion += 1;
  }

  /** The changes so far; hand it back to synced() once a round has written them all. */
  get version(): number {
    return this.changeVersion;
  }

  synced(version: number): void {
    this.syncedVersion = version;
  }

  /** When the pending changes may be written; undefined if there are none. */
  changeDue(): number | undefined {
    if (this.changeVersion === this.syncedVersion) return undefined;
    return Math.max(
      this.dirtySince + this.periods.debounceMs,
      this.lastChangeWriteAt + this.periods.minChangeIntervalMs,
    );
  }

  changing(now: number): boolean {
    const due = this.changeDue();
    return due !== undefined && now >= due;
  }

  /** A change round wrote something at `now`: the next one waits minChangeIntervalMs. */
  changeWritten(now: number): void {
    this.lastChangeWriteAt = now;
  }

  get lastRenewAt(): number | undefined {
    return this.renewedAt;
  }

  renewDue(now: number): boolean {
    return this.renewedAt === undefined || now >= this.renewedAt + this.periods.renewIntervalMs;
  }

  renewed(now: number): void {
    this.renewedAt = now;
  }

  pollDue(now: number): boolean {
    return this.polledAt === undefined || now >= this.polledAt + this.periods.pollMs;
  }

  /** A read of the Node began at `now` (whatever its outcome: a failure backs off instead). */
  polled(now: number): void {
    this.polledAt = now;
  }

  /** Read the Node at the next round rather than a period later. */
  pollSoon(): void {
    this.polledAt = undefined;
  }

  /** Whether a round may run: not while waiting out a failure. */
  mayRun(now: number): boolean {
    return this.retryAt === undefined || now >= this.retryAt;
  }

  succeeded(): void {
    this.retryAt = undefined;
    this.backoff.reset();
  }

  /**
   * A round failed; its answer came back at `now` (Retry-After counts from the answer, not from
   * the round's start). Returns the delay before the next try.
   */
  failed(now: number, retryAfterSeconds?: number): number {
    const delay = Math.max(this.backoff.next(), (retryAfterSeconds ?? 0) * 1000);
    this.retryAt = now + delay;
    return delay;
  }

  /** When the next round is due, given other work that is due at `others` (undefined: none). */
  nextDue(now: number, ...others: (number | undefined)[]): number {
    if (this.retryAt !== undefined) return this.retryAt;
    const due = [
      this.renewedAt === undefined ? now : this.renewedAt + this.periods.renewIntervalMs,
      this.polledAt === undefined ? now : this.polledAt + this.periods.pollMs,
      this.changeDue(),
      ...others,
    ].filter((t): t is number => t !== undefined);
    return Math.min(...due);
  }
}
