import { setTimeout as delay } from 'node:timers/promises';

/**
 * Exponential backoff with full jitter, shared by every retry loop in the agent
 * (token fetch, bot code download, bot restarts, adb reconnects, API calls).
 * Jitter matters: a lab of Pis restarting together must not retry in lockstep.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per failure; 2 doubles the ceiling each time. */
  factor?: number;
  /** 0 = no jitter, 1 = a delay drawn uniformly from [0, ceiling]. Default 0.5. */
  jitter?: number;
  /** Injected for deterministic tests. */
  random?: () => number;
}

export class Backoff {
  private failures = 0;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    if (options.initialMs <= 0 || options.maxMs < options.initialMs) {
      throw new RangeError('backoff needs 0 < initialMs <= maxMs');
    }
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.5;
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(
      this.options.maxMs,
      this.options.initialMs * this.factor ** this.failures,
    );
    this.failures += 1;
    return Math.round(ceiling * (1 - this.jitter * this.random()));
  }

  /** Consecutive failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}

/**
 * Resolves after `ms`, or rejects with the signal's own reason as soon as it aborts
 * (node's timer rejects with a generic AbortError; callers rethrow the reason they gave).
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}
