/**
 * What bot-config needs to know about the device behind a bot, and what it
 * tells the device side. bot-config knows nothing of adb or Kubernetes: the
 * agent implements this interface (in memory first, then over adb).
 */

/** Swarming dimensions: key to list of values. */
export type Dimensions = Record<string, string[]>;

export interface BotDeviceView {
  /**
   * The dimensions the device side owns for this bot. Each key present here
   * replaces the bot's own value wholesale; an empty list removes the key.
   */
  dimensions: Dimensions;
  /** Set when the bot must not take tasks: the reason shown in Swarming. */
  quarantined?: string;
  /** Set when the device is recovering or under maintenance: the bot sleeps. */
  maintenance?: string;
  /** True when a task may start on the device right now. */
  ready: boolean;
}

export interface TaskStart {
  /** The task id when the bot tells it (from the runner environment), else undefined. */
  taskId?: string;
}

export interface TaskEnd {
  failure: boolean;
  internalFailure: boolean;
}

/**
 * The devices behind the bots, as the hook server reaches them: what each bot's device looks
 * like, waiting until it is ready, and being told when a task starts and ends.
 */
export interface BotDevices {
  /**
   * Whether `botId` is one of the bots this node runs (one per slot). The hook
   * server refuses every other id, so callers cannot grow per-bot records.
   */
  knows(botId: string): boolean;
  /** The current view of the device behind `botId`. Rejects when the devices cannot be read. */
  view(botId: string): Promise<BotDeviceView>;
  /**
   * Resolves true once the device behind `botId` is ready (waking it if it
   * sleeps), false when `timeoutMs` passes first or the signal aborts.
   */
  whenReady(botId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /**
   * True when whenReady would resolve true at once, with nothing to wake or wait for: the
   * device behind `botId` can take the task this moment. on_before_task then answers before
   * it reports the start.
   */
  readyNow(botId: string): boolean;
  taskStarted(botId: string, task: TaskStart): Promise<void>;
  /**
   * True when taskEnded would finish at once, with nothing to switch or wait for (no port to
   * power differently, no reboot to start): on_after_task then answers before it reports the end.
   */
  endsAtOnce(botId: string): boolean;
  taskEnded(botId: string, result: TaskEnd): Promise<void>;
}
