/**
 * Crash-loop detection for one Swarming bot, kept free of clocks and timers so
 * it can be table-tested: the supervisor passes the times in.
 *
 * A bot that keeps dying is not taken out of rotation by restarting it less
 * (the backoff already caps that); it is reported as quarantined so Swarming
 * stops handing it tasks, and the report clears itself once a later
 * incarnation has stayed up long enough to count as healthy.
 */
export interface CrashWindowOptions {
  /** Crashes inside `windowMs` that quarantine the bot. */
  max: number;
  windowMs: number;
  /** Uptime after which the bot counts as healthy again and its crash history is forgotten. */
  stableAfterMs: number;
}

export class CrashWindow {
  /** Crash times still inside the window, oldest first. */
  private crashes: number[] = [];
  private reason: string | undefined;

  constructor(private readonly options: CrashWindowOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) {
      throw new RangeError('crash window needs max >= 1');
    }
    if (options.windowMs <= 0 || options.stableAfterMs <= 0) {
      throw new RangeError('crash window needs positive windowMs and stableAfterMs');
    }
  }

  /** The quarantine reason, or undefined while the bot is not quarantined. */
  get quarantined(): string | undefined {
    return this.reason;
  }

  /**
   * Records a crash at `at` described by `cause` (e.g. `exit code 1`).
   * Returns the reason only when this crash puts the bot into quarantine;
   * further crashes while quarantined refresh the reason (see `quarantined`)
   * so it names the latest cause.
   */
  crashed(at: number, cause: string): string | undefined {
    this.crashes = this.crashes.filter((t) => at - t < this.options.windowMs);
    this.crashes.push(at);
    if (this.crashes.length < this.options.max) return undefined;
    const wasQuarantined = this.reason !== undefined;
    this.reason =
      `bot crashed ${this.crashes.length} times in ${formatDuration(this.options.windowMs)}` +
      ` (last: ${cause})`;
    return wasQuarantined ? undefined : this.reason;
  }

  /**
   * Called while an incarnation started at `startedAt` is still running. Once
   * it has been up `stableAfterMs`, forgets the crash history (so one later
   * crash cannot re-quarantine on old evidence) and lifts any quarantine.
   * Returns true only when this lifts a quarantine.
   */
  stayedUp(startedAt: number, now: number): boolean {
    if (now - startedAt < this.options.stableAfterMs) return false;
    this.crashes = [];
    const wasQuarantined = this.reason !== undefined;
    this.reason = undefined;
    return wasQuarantined;
  }
}

/** `600000` -> `10m`: the largest whole unit, so reasons read like an operator would write them. */
export function formatDuration(ms: number): string {
  const units: [number, string][] = [
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
  ];
  for (const [size, suffix] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size}${suffix}`;
  }
  return `${ms}ms`;
}
