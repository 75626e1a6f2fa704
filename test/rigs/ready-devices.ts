import type { BotDevices } from '../../bot-config/src/bot-devices.js';

/**
 * A device layer where every phone is ready and nothing happens: for tests of who may call the
 * hooks, not of what the hooks answer. Only the bots in `known` are this node's.
 */
export function readyDevices(known: readonly string[]): BotDevices {
  return {
    knows: (botId) => known.includes(botId),
    view: async () => ({ dimensions: {}, ready: true }),
    whenReady: async () => true,
    readyNow: () => true,
    endsAtOnce: () => true,
    taskStarted: async () => undefined,
    taskEnded: async () => undefined,
  };
}
