import type { BotDevices } from '@farm-agent/bot-config';
import type { Lifecycle } from './lifecycle.js';

/**
 * The bots' devices as the hook server sees them, with `on_before_task`'s wait going
 * through the lifecycle: a sleeping phone is woken (reason `task`) before
 * the wait for ready starts, so sleeping never hides a bot from its tasks.
 */
export function wakingBotDevices(devices: BotDevices, lifecycle: Lifecycle): BotDevices {
  return {
    knows: (botId) => devices.knows(botId),
    view: (botId) => devices.view(botId),
    whenReady: (botId, timeoutMs, signal) => lifecycle.whenAwakeAndReady(botId, timeoutMs, signal),
    // A sleeping phone's health says asleep, so a phone ready now has nothing to wake.
    readyNow: (botId) => devices.readyNow(botId),
    endsAtOnce: (botId) => devices.endsAtOnce(botId),
    taskStarted: (botId, task) => devices.taskStarted(botId, task),
    taskEnded: (botId, result) => devices.taskEnded(botId, result),
  };
}
