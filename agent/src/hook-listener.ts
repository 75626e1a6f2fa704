import type { BotDevices, Hook, HookServerOptions } from '@farm-agent/bot-config';
// The module alone, not the package's index: the hook listener is up before the rest is loaded.
import { createHookServer, HookMetrics, type HookServer } from '@farm-agent/bot-config/hook-server';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from './config/settings.js';
import { hostThresholds } from './host/host-maintenance.js';
import { botSettings } from './swarming/bot-settings.js';

/** What the hooks answer from: the agent's parts, built once the listener is up. */
export type HookParts = Pick<
  HookServerOptions,
  | 'devices'
  | 'settings'
  | 'botQuarantine'
  | 'onRebootRequested'
  | 'onAnswered'
  | 'onServerAccepted'
  | 'authorizeCaller'
>;

export interface HookListenerOptions {
  config: Config;
  logger: Logger;
}

/**
 * The loopback listener the bots' shims call, opened first at start-up (main.ts) with only
 * what serving hooks needs loaded; the parts it answers from are attached when FarmAgent has
 * built them. Until then no bot runs (bots start after the devices), so every bot hook is
 * answered as for a bot this node does not run (404), get_settings with the settings before
 * the host's first reading, /healthz as usual: what is true while the agent starts.
 */
export class HookListener {
  readonly server: HookServer;
  private parts: HookParts | undefined;
  private readonly metrics = new HookMetrics();

  constructor({ config, logger }: HookListenerOptions) {
    const parts = (): HookParts => {
      // Unreachable: every bot hook first asks devices.knows, false until attached.
      if (this.parts === undefined) throw new Error('hook answered before the agent was built');
      return this.parts;
    };
    const devices: BotDevices = {
      knows: (botId) => this.parts?.devices.knows(botId) === true,
      view: (botId) => parts().devices.view(botId),
      whenReady: (botId, timeoutMs, signal) => parts().devices.whenReady(botId, timeoutMs, signal),
      readyNow: (botId) => parts().devices.readyNow(botId),
      endsAtOnce: (botId) => parts().devices.endsAtOnce(botId),
      taskStarted: (botId, task) => parts().devices.taskStarted(botId, task),
      taskEnded: (botId, result) => parts().devices.taskEnded(botId, result),
    };
    // Without Swarming the agent runs no bot: nobody to check callers against.
    const authorizeCaller: HookServerOptions['authorizeCaller'] = config.swarmingServer
      ? (request, botId, hook: Hook) =>
          parts().authorizeCaller?.(request, botId, hook) ?? Promise.resolve(undefined)
      : undefined;
    // Before the host's first reading, as the host monitor answers until then.
    const startingSettings = botSettings(hostThresholds(config), undefined);
    this.server = createHookServer({
      devices,
      authorizeCaller,
      botQuarantine: (botId) => parts().botQuarantine(botId),
      pool: config.pool,
      settings: () => this.parts?.settings() ?? startingSettings,
      readyWaitMaxMs: config.readyTimeout,
      onRebootRequested: (botId, argv, ppid) => parts().onRebootRequested(botId, argv, ppid),
      onAnswered: (exchange) => parts().onAnswered?.(exchange),
      onServerAccepted: (botId) => parts().onServerAccepted?.(botId),
      logger: logger.child({ listener: 'hooks' }),
      metrics: this.metrics,
    });
  }

  /** Loopback only, and each call checked against the bot's process (hook-access.ts). */
  async listen(port: number): Promise<void> {
    await this.server.listen({ host: '127.0.0.1', port });
  }

  /**
   * The hook series join the agent's metrics; the calls answered before are counted too.
   * Apart from listening: prom-client is loaded after the listener is up.
   */
  async countInto(registry: Registry): Promise<void> {
    await this.metrics.register(registry);
  }

  /** From now on the hooks answer from `parts`. */
  attach(parts: HookParts): void {
    this.parts = parts;
  }
}
