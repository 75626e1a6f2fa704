import { joinReasons, type BotDevices, type TaskEnd } from '@farm-agent/bot-config';
import { errorMessage } from '@farm-agent/bot-config/lib';
import type { Logger } from 'pino';

/** What the bots report while the agent drains: Swarming sends them no new task. */
export const DRAIN_REASON = 'agent stopping';

/** How a task whose bot died before its on_after_task is reported to the device side. */
const CUT_OFF: TaskEnd = { failure: true, internalFailure: true };

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
  /** The devices told of task ends, also of those whose bot died mid-task. */
  private devices: BotDevices | undefined;

  /** The hook server's devices, with task tracking and the drain's maintenance added. */
  botDevices(inner: BotDevices): BotDevices {
    this.devices = inner;
    return {
      knows: (botId) => inner.knows(botId),
      // Asked on every get_state/get_dimensions: no extra promise while not draining.
      view: (botId) =>
        this.draining
          ? inner.view(botId).then((view) => ({
              ...view,
              maintenance: joinReasons(DRAIN_REASON, view.maintenance),
            }))
          : inner.view(botId),
      whenReady: (botId, timeoutMs, signal) => inner.whenReady(botId, timeoutMs, signal),
      readyNow: (botId) => inner.readyNow(botId),
      endsAtOnce: (botId) => inner.endsAtOnce(botId),
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

  /**
   * The bot's process is gone: whatever task it ran is over (its on_after_task never comes),
   * so the device side hears of the end as well, or its slot would show a task forever:
   * busy to Swarming and the gate, never slept, charged or recovered.
   */
  botExited(botId: string, log: Logger): void {
    if (!this.running.has(botId)) return;
    this.ended(botId);
    log.warn({ botId }, 'bot exited during a task: the task counts as ended (internal failure)');
    this.devices?.taskEnded(botId, CUT_OFF).catch((err: unknown) => {
      log.warn({ botId, err: errorMessage(err) }, 'could not end the cut-off task on its device');
    });
  }

  private ended(botId: string): void {
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
