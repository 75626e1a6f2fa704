import type { DeviceFacts } from '@farm-agent/bot-config';
import type { Lifecycle } from './lifecycle.js';

/**
 * The device facts the hook server uses, with `on_before_task`'s wait going
 * through the lifecycle: a sleeping phone is woken (reason `task`) before
 * the wait for ready starts, so sleeping never hides a bot from its tasks.
 */
export function wakingFacts(facts: DeviceFacts, lifecycle: Lifecycle): DeviceFacts {
  return {
    knows: (botId) => facts.knows(botId),
    view: (botId) => facts.view(botId),
    whenReady: (botId, timeoutMs, signal) => lifecycle.whenAwakeAndReady(botId, timeoutMs, signal),
    taskStarted: (botId, task) => facts.taskStarted(botId, task),
    taskEnded: (botId, result) => facts.taskEnded(botId, result),
  };
}
