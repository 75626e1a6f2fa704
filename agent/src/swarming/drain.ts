import { joinReasons, type BotDevices } from '@farm-agent/bot-config';
import type { Logger } from 'pino';

/** What the bots report while the agent drains: Swarming sends them no new task. */
export const DRAIN_REASON = 'agent stopping';

/**
 * Knows which bots run a task (between on_before_task and on_after_task, or
 * until the bot exits), and drains them when the agent is told to stop: from
 * then on every bot reports maintenance, and drain() resolves once no task
 * runs or the grace is over, whichever comes first.
 */
export class TaskDrain {
  private readonly running = new Set<string>();
  private draining = false;
  private wake: (() => void) | undefined;

  /** The hook server's devices, with task tracking and the drain's maintenance added. */
  botDevices(inner: BotDevices): BotDevices {
    return {
      knows: (botId) => inner.knows(botId),
      view: async (botId) => {
        const view = await inner.view(botId);
        if (!this.draining) return view;
        return { ...view, maintenance: joinReasons(DRAIN_REASON, view.maintenance) };
      },
      whenReady: (botId, timeoutMs, signal) => inner.whenReady(botId, timeoutMs, signal),
      taskStarted: async (botId, task) => {
        this.running.add(botId);
        await inner.taskStarted(botId, task);
      },
      taskEnded: async (botId, result) => {
        this.ended(botId);
        await inner.taskEnded(botId, result);
      },
    };
  }

  /** The bot's process is gone: whatever task it ran is over (its on_after_task never comes). */
  ended(botId: string): void {
    this.running.delete(botId);
    if (this.running.size === 0) this.wake?.();
  }

  /** Whether the bot runs a task now. */
  runs(botId: string): boolean {
    return this.running.has(botId);
  }

  status(): { draining: boolean; runningTasks: string[] } {
    return { draining: this.draining, runningTasks: [...this.running].sort() };
  }

  /** Stops new tasks and waits, at most graceMs, for the running ones to end. */
  async drain(graceMs: number, log: Logger): Promise<void> {
    this.draining = true;
    if (this.running.size === 0) return;
    const bots = [...this.running].sort();
    log.info({ bots, graceMs }, 'draining: waiting for running tasks to finish');
    const startedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const finished = await new Promise<boolean>((resolve) => {
      this.wake = () => resolve(true);
      timer = setTimeout(() => resolve(false), graceMs);
    });
    clearTimeout(timer);
    this.wake = undefined;
    if (finished) log.info({ waitedMs: Date.now() - startedAt }, 'drained: no task runs');
    else
      log.warn(
        { bots: [...this.running].sort(), graceMs },
        'drain grace over with tasks still running; stopping their bots',
      );
  }
}
