/**
 * Runs async work one piece at a time, in call order (a lifecycle wake never
 * races the sleep it undoes; cluster API calls never interleave). A failed piece
 * fails only its own caller.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(work: () => Promise<T>): Promise<T> {
    this.pending += 1;
    const run = this.tail.then(work).finally(() => {
      this.pending -= 1;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Whether any work is queued or running now. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Resolves once no work is queued or running, including work queued meanwhile. */
  async idle(): Promise<void> {
    let seen: Promise<unknown> | undefined;
    while (seen !== this.tail) {
      seen = this.tail;
      await seen;
    }
  }
}
