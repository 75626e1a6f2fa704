/**
 * Which task start and end each bot already reported, so that repeated hook
 * calls report a task once: the shim repeats on_before_task while it waits
 * for the device (same call id), and a hook defined both in the zip's
 * bot_config.py and in the bots.cfg script runs twice (same task id).
 */
export class TaskLedger {
  /** Per bot: the task id (else the call id) whose start was reported. */
  private readonly started = new Map<string, string>();
  /** Per bot: the task id whose end was reported. */
  private readonly ended = new Map<string, string>();

  /**
   * True when this call starts a task to report; false for a repeat of the
   * start already reported. Without a key every call is a new start. Claimed
   * at once, so a concurrent repeat does not report it twice.
   */
  claimStart(botId: string, key: string | undefined): boolean {
    if (key !== undefined && this.started.get(botId) === key) return false;
    if (key === undefined) this.started.delete(botId);
    else this.started.set(botId, key);
    this.ended.delete(botId);
    return true;
  }

  /** Reporting the start failed: the next call must try again. */
  releaseStart(botId: string): void {
    this.started.delete(botId);
  }

  /** True when this end is to be reported; false for a task id whose end already was. */
  claimEnd(botId: string, taskId: string | undefined): boolean {
    this.started.delete(botId);
    if (taskId === undefined) return true;
    if (this.ended.get(botId) === taskId) return false;
    this.ended.set(botId, taskId);
    return true;
  }
}
