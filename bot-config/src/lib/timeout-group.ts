/**
 * Waits that all time out after the same `ms`, each settling like `withTimeout(promise, ms)`,
 * sharing one timer instead of arming and clearing one per wait. For waits on every hook call
 * that almost always settle at once: on the bench's loaded VM, a timer armed and cleared per
 * get_state added 60-80 µs to its answer, more than the rest of reading the device view.
 *
 * The timer is armed for the oldest pending wait; when it fires, every wait past its deadline
 * is rejected and the timer re-armed for the next one. A wait that settles leaves the timer as
 * it is, so at most one timer is armed, and it fires at most once per `ms` while waits come in.
 */
export class TimeoutGroup {
  /** Pending waits, oldest first: all have the same length and the clock only moves forward. */
  private readonly pending = new Set<{ deadline: number; expire: () => void }>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ms: number,
    /** Monotonic milliseconds: a wall clock set back would postpone every deadline. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Settles like `promise`, or rejects with `no answer within <ms> ms` when it takes longer. */
  within<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const wait = {
        deadline: this.now() + this.ms,
        expire: () => reject(new Error(`no answer within ${this.ms} ms`)),
      };
      this.pending.add(wait);
      this.timer ??= this.arm(this.ms);
      promise.then(
        (value) => {
          this.pending.delete(wait);
          resolve(value);
        },
        (error: unknown) => {
          this.pending.delete(wait);
          reject(error);
        },
      );
    });
  }

  /**
   * Unref'd: the timer outlives the waits that settle (see above), and the agent ends when its
   * event loop empties, so a kept timer would hold a stopping agent up to `ms` after its last hook.
   */
  private arm(ms: number): ReturnType<typeof setTimeout> {
    return setTimeout(() => this.expire(), ms).unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = this.now();
    for (const wait of this.pending) {
      if (wait.deadline > now) {
        this.timer = this.arm(wait.deadline - now);
        return;
      }
      this.pending.delete(wait);
      wait.expire();
    }
  }
}
