/** How many recoveries a phone may need before it sits out (Mobile Harness: 3 in 10 min → 20 min). */
export interface BudgetLimits {
  failures: number;
  windowMs: number;
  coolOffMs: number;
}

/**
 * A phone's failures over a sliding window, with decay: failures older than the
 * window no longer count. Reaching the limit puts the phone out of service for
 * the cool-off; after it the count starts over and the phone is tried again.
 * Pure: time is passed in.
 */
export class RecoveryBudget {
  private failures: number[] = [];
  private outUntil: number | undefined;

  constructor(private readonly limits: BudgetLimits) {}

  /** Counts one failure; returns when the phone is out of service until, if this spent the budget. */
  fail(now: number): number | undefined {
    this.decay(now);
    this.failures.push(now);
    if (this.failures.length >= this.limits.failures) {
      this.outUntil = now + this.limits.coolOffMs;
      this.failures = [];
    }
    return this.outOfServiceUntil(now);
  }

  /** Until when the phone sits out, or undefined when it may be tried. */
  outOfServiceUntil(now: number): number | undefined {
    if (this.outUntil !== undefined && now >= this.outUntil) this.outUntil = undefined;
    return this.outUntil;
  }

  /** Failures that still count now. */
  recent(now: number): number {
    this.decay(now);
    return this.failures.length;
  }

  private decay(now: number): void {
    this.failures = this.failures.filter((at) => now - at < this.limits.windowMs);
  }
}
