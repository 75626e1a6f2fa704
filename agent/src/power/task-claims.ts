import type { Logger } from 'pino';
import { errorMessage } from '@farm-agent/bot-config/lib';
import type { TaskPower, TaskSlot } from '../devices/slot-bot-devices.js';
import { uhubctlTarget } from '../devices/slot.js';
import type { UhubctlTarget } from '../devices/slot.js';
import type { PortPower } from './port-power.js';

export interface TaskClaimsOptions {
  power: PortPower;
  /**
   * Whether the bot still runs its task (the hook ledger): false once its
   * on_after_task came, or its process exited without one (crashed, or stopped
   * at the end of a drain). The claim lapses then.
   */
  taskRunning: (botId: string) => boolean;
  logger: Logger;
  /** The hub port of a slot; default from its USB path, null for network phones. */
  powerTarget?: (slot: TaskSlot) => UhubctlTarget | null;
}

/**
 * A running task's claim on its phone's port, the highest there is: from
 * on_before_task to on_after_task (or its bot's exit) no cut by charge control or
 * sleep and no recovery power cycle can take the phone, whatever their own checks.
 * A claim that cannot switch the port (uhubctl failing) is logged, never a reason to
 * fail the task's start: the phone's own readiness decides that.
 */
export class TaskPowerClaims implements TaskPower {
  private readonly powerTarget: (slot: TaskSlot) => UhubctlTarget | null;

  constructor(private readonly options: TaskClaimsOptions) {
    this.powerTarget = options.powerTarget ?? ((slot) => uhubctlTarget(slot.key));
  }

  startsAtOnce(slot: TaskSlot): boolean {
    const target = this.powerTarget(slot);
    return target === null || this.options.power.onAndSettled(target);
  }

  async started(slot: TaskSlot, why: string): Promise<void> {
    const target = this.powerTarget(slot);
    if (target === null) return;
    const botId = slot.botId;
    try {
      await this.options.power.hold(target, 'task', why, {
        holds: () => this.options.taskRunning(botId),
      });
    } catch (error) {
      this.options.logger.warn(
        { slot: slot.key, err: errorMessage(error) },
        'task claim on the port could not take effect',
      );
    }
  }

  endsAtOnce(slot: TaskSlot): boolean {
    const target = this.powerTarget(slot);
    return target === null || this.options.power.onAndSettled(target, 'task');
  }

  async ended(slot: TaskSlot): Promise<void> {
    const target = this.powerTarget(slot);
    if (target === null) return;
    try {
      await this.options.power.release(target, 'task');
    } catch (error) {
      // The claim is gone either way; the port follows the others' at the next switch.
      this.options.logger.warn(
        { slot: slot.key, err: errorMessage(error) },
        'port power after the task',
      );
    }
  }
}
