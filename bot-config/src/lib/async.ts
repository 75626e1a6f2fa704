/**
 * Small promise helpers shared by every layer (supervisor, hook server, adb,
 * host probes): waiting on something that may never settle without letting it
 * hold up a stop or a reply.
 */

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolveValue, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolveValue, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** True once `promise` settles within `ms`, false when the time runs out first. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolveWithin) => {
    const timer = setTimeout(() => resolveWithin(false), ms);
    const settled = (): void => {
      clearTimeout(timer);
      resolveWithin(true);
    };
    void promise.then(settled, settled);
  });
}

export interface TimeoutOptions<T> {
  /** The error to reject with when time runs out; default `no answer within <ms> ms`. */
  error?: () => Error;
  /** Receives a value that arrives after the timeout, so a late stream or socket is still closed. */
  discard?: (late: T) => void;
}

/**
 * Settles like `work`, or rejects when it takes longer than `ms`. `work` may be a
 * function, so that a synchronous throw becomes a rejection too. The work itself
 * keeps running; only the wait ends.
 */
export function withTimeout<T>(
  work: Promise<T> | (() => Promise<T>),
  ms: number,
  options: TimeoutOptions<T> = {},
): Promise<T> {
  const promise = typeof work === 'function' ? Promise.resolve().then(work) : work;
  return new Promise<T>((resolveValue, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(options.error?.() ?? new Error(`no answer within ${ms} ms`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (timedOut) options.discard?.(value);
        else resolveValue(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
