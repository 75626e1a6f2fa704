import type { BotDeviceView, BotDevices, TaskEnd, TaskStart } from '@farm-agent/bot-config';

export interface BotActivity {
  botId: string;
  view: BotDeviceView;
  task?: TaskStart & { startedAt: number };
  lastTask?: TaskEnd & { endedAt: number };
}

/**
 * The bots' devices held in memory: what the agent uses before (or without) a
 * device backend, and a strict stand-in in tests. A bot it does not know is an
 * error, never a silently empty view, so a misrouted hook call shows up as a
 * quarantine reason instead of a healthy-looking bot.
 */
export class InMemoryBotDevices implements BotDevices {
  private readonly bots = new Map<string, BotActivity>();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly now: () => number = Date.now) {}

  set(botId: string, view: BotDeviceView): void {
    const existing = this.bots.get(botId);
    this.bots.set(botId, { ...existing, botId, view });
    for (const wake of this.waiters) wake();
  }

  activity(): BotActivity[] {
    return [...this.bots.values()];
  }

  knows(botId: string): boolean {
    return this.bots.has(botId);
  }

  async view(botId: string): Promise<BotDeviceView> {
    return this.get(botId).view;
  }

  readyNow(botId: string): boolean {
    return this.get(botId).view.ready;
  }

  async whenReady(botId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.readyNow(botId)) return true;
    return new Promise((resolve) => {
      const finish = (ready: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(check);
        resolve(ready);
      };
      const check = (): void => {
        if (this.bots.get(botId)?.view.ready) finish(true);
      };
      const onAbort = (): void => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(check);
    });
  }

  endsAtOnce(): boolean {
    return true;
  }

  async taskStarted(botId: string, task: TaskStart): Promise<void> {
    const bot = this.get(botId);
    bot.task = { ...task, startedAt: this.now() };
  }

  async taskEnded(botId: string, result: TaskEnd): Promise<void> {
    const bot = this.get(botId);
    delete bot.task;
    bot.lastTask = { ...result, endedAt: this.now() };
  }

  private get(botId: string): BotActivity {
    const bot = this.bots.get(botId);
    if (!bot) throw new Error(`no device is known for bot "${botId}"`);
    return bot;
  }
}
