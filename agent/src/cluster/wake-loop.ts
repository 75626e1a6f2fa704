/**
 * A background loop: run a step, then sleep until the time it asks for, unless woken early (new
 * work came in) or stopped. It sleeps on the injected Clock, so tests drive it by hand.
 */
import type { Clock } from '@farm-agent/bot-config/lib';

export class WakeLoop {
  private running: Promise<void> | undefined;
  private stopped = true;
  private wakeUp: (() => void) | undefined;

  /** `step` must not throw; `nextDue` is the clock time to run it again. */
  constructor(
    private readonly clock: Clock,
    private readonly step: () => Promise<void>,
    private readonly nextDue: () => number,
  ) {}

  start(): void {
    if (this.running !== undefined) return;
    this.stopped = false;
    this.running = this.loop();
  }

  /** Ends the loop after the step in flight, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.running;
    this.running = undefined;
  }

  /** Cuts the current sleep short; a no-op while a step runs (it looks again after). */
  wake(): void {
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.step();
      if (this.stopped) break;
      await this.sleepUntil(this.nextDue());
    }
  }

  private sleepUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.clock.setTimeout(
        () => {
          this.wakeUp = undefined;
          resolve();
        },
        Math.max(0, at - this.clock.now()),
      );
      this.wakeUp = () => {
        this.wakeUp = undefined;
        this.clock.clearTimeout(handle);
        resolve();
      };
    });
  }
}
