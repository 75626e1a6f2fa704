import type { BotDeviceView, BotDevices, TaskEnd, TaskStart } from '@farm-agent/bot-config';
import { systemClock } from '@farm-agent/bot-config/lib';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { SlotManager } from './slot-manager.js';
import type { SlotHealth } from './health.js';
import type { BotSlot, Slot } from './slot-state.js';

/** The slot a task runs in, as the port power owner needs it: no copy of the slot per hook. */
export type TaskSlot = Pick<Slot, 'key' | 'botId'>;

/** Tells the owner of port power that a task holds a slot's phone (power/task-claims.ts). */
export interface TaskPower {
  /** Whether `started` would switch nothing for this slot: its claim is only written down. */
  startsAtOnce(slot: TaskSlot): boolean;
  started(slot: TaskSlot, why: string): Promise<void>;
  /** Whether `ended` would switch nothing for this slot: the port stays as it is. */
  endsAtOnce(slot: TaskSlot): boolean;
  ended(slot: TaskSlot): Promise<void>;
}

/**
 * The bots' devices over the slot manager: one bot per slot. A bot id no slot has
 * is an error, never an empty view, so a misrouted hook call becomes a
 * quarantine reason instead of a healthy-looking bot.
 */
export class SlotBotDevices implements BotDevices {
  constructor(
    private readonly manager: SlotManager,
    private readonly clock: Clock = systemClock,
    /** Claims the slot's port for the task; none without a port power owner. */
    private readonly taskPower?: TaskPower,
  ) {}

  knows(botId: string): boolean {
    return this.manager.keyOfBot(botId) !== undefined;
  }

  async view(botId: string): Promise<BotDeviceView> {
    const view = this.manager.botView(botId);
    if (view === undefined) throw unknownBot(botId);
    return view;
  }

  /**
   * Whether the slot can run the task the bot is starting. `busy` counts:
   * the hook server reports the task started before it waits, and health
   * says `busy` only when every other check passed (it is decided last
   * before `ready`).
   */
  async whenReady(botId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const key = this.manager.keyOfBot(botId);
    if (key === undefined) throw unknownBot(botId);
    if (canRun(this.manager.healthState(key))) return true;
    if (signal?.aborted) return false;
    return new Promise((resolve) => {
      const finish = (result: boolean) => {
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        unsubscribe();
        resolve(result);
      };
      const onAbort = () => finish(false);
      const timer = this.clock.setTimeout(() => finish(false), timeoutMs);
      const unsubscribe = this.manager.onSlotChanged((slot) => {
        if (slot.key === key && canRun(slot.health.state)) finish(true);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ready, and the task's claim on the phone's port has no switch to wait for. */
  readyNow(botId: string): boolean {
    const key = this.manager.keyOfBot(botId);
    if (key === undefined || !canRun(this.manager.healthState(key))) return false;
    return this.taskPower?.startsAtOnce({ key, botId }) ?? true;
  }

  async taskStarted(botId: string, task: TaskStart): Promise<void> {
    const slot = this.slotOf(botId);
    this.manager.taskStarted(slot.key);
    await this.taskPower?.started(slot, `task ${task.taskId ?? '(id not told)'} running`);
  }

  /** No reboot after the task, and giving back the task's claim on the port switches nothing. */
  endsAtOnce(botId: string): boolean {
    const key = this.manager.keyOfBot(botId);
    if (key === undefined || this.manager.rebootsAfterTask) return false;
    return this.taskPower?.endsAtOnce({ key, botId }) ?? true;
  }

  async taskEnded(botId: string, _result: TaskEnd): Promise<void> {
    const slot = this.slotOf(botId);
    // Before the reboot after a task, which may wait minutes for the phone.
    await this.taskPower?.ended(slot);
    await this.manager.taskEnded(slot.key);
  }

  /** One Swarming bot per slot, to run with `ANDROID_SERIAL` set to its serial. */
  bots(): BotSlot[] {
    return this.manager.bots();
  }

  onBotsChanged(listener: (bots: BotSlot[]) => void): () => void {
    return this.manager.onBotsChanged(listener);
  }

  /** Read off the registry (keyOfBot): on_before_task and on_after_task copy no slot. */
  private slotOf(botId: string): TaskSlot {
    const key = this.manager.keyOfBot(botId);
    if (key === undefined) throw unknownBot(botId);
    return { key, botId };
  }
}

function unknownBot(botId: string): Error {
  return new Error(`no device slot is known for bot "${botId}"`);
}

function canRun(state: SlotHealth['state'] | undefined): boolean {
  return state === 'ready' || state === 'busy';
}
