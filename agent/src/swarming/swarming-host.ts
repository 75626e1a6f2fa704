import { join } from 'node:path';
import {
  type BotCodeStore,
  BotSupervisor,
  killLeftoverTrees,
  SHIM_DIR,
  type SupervisorEvent,
} from '@farm-agent/bot-config';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/settings.js';
import type { BotSpec } from '../devices/backend.js';

export interface SwarmingHostOptions {
  config: Config;
  logger: Logger;
  registry: Registry;
  /** Where the bots' `bot_config.py` reaches the hook listener. */
  hookUrl: string;
  /**
   * The cache of the bot code, made once, for the first bot started: the server authorises
   * the download for a bot id it knows.
   */
  botCode: (firstBotId: string) => BotCodeStore;
  onEvent?: (botId: string, event: SupervisorEvent) => void;
}

/**
 * Runs one supervised Swarming bot per bot spec. Each bot keeps its own code in its
 * directory (it updates itself); the cached `swarming_bot.zip` follows the newest of them and
 * seeds new slots. The set of bots changes as phones come and go.
 */
export class SwarmingHost {
  private code: BotCodeStore | undefined;
  private readonly supervisors = new Map<string, { supervisor: BotSupervisor; spec: BotSpec }>();
  private readonly stopping = new AbortController();
  /** Once, before the first bot starts: what an earlier run of the agent left running. */
  private leftovers: Promise<void> | undefined;

  constructor(private readonly options: SwarmingHostOptions) {}

  /** One cached zip for every bot, downloaded in the name of the first bot started. */
  private codeStore(botId: string): BotCodeStore {
    this.code ??= this.options.botCode(botId);
    return this.code;
  }

  /**
   * Starts the bots that are new, stops the ones no longer wanted, and
   * restarts a bot whose environment changed (another phone in its slot has
   * another ANDROID_SERIAL, which a running bot cannot pick up).
   */
  async setBots(specs: BotSpec[]): Promise<void> {
    this.leftovers ??= this.killLeftovers();
    await this.leftovers;
    // stop() may have run meanwhile: no bot may start after it.
    if (this.stopping.signal.aborted) return;
    const wanted = new Map(specs.map((s) => [s.botId, s]));
    const stale = [...this.supervisors].filter(
      ([id, { spec }]) => !sameEnv(wanted.get(id)?.env, spec.env),
    );
    await Promise.all(stale.map(([id]) => this.stopBot(id)));
    if (this.stopping.signal.aborted) return;
    for (const spec of wanted.values()) {
      if (!this.supervisors.has(spec.botId)) this.startBot(spec);
    }
  }

  /** The bot is about to be killed by the sudo shim: restart it at once, not as a crash. */
  expectRestart(botId: string, reason: string, pid?: number): boolean {
    const supervisor = this.supervisors.get(botId)?.supervisor;
    supervisor?.expectRestart(reason, pid);
    return supervisor !== undefined;
  }

  /** The running process of the bot, the only one its hooks answer. */
  botPid(botId: string): number | undefined {
    return this.supervisors.get(botId)?.supervisor.status().pid;
  }

  /** The bot's shim reports that the server answered it: its credentials work. */
  serverAccepted(botId: string): void {
    this.supervisors.get(botId)?.supervisor.serverAccepted();
  }

  quarantineReason(botId: string): string | undefined {
    return this.supervisors.get(botId)?.supervisor.status().quarantined;
  }

  statuses(): ReturnType<BotSupervisor['status']>[] {
    return [...this.supervisors.values()].map(({ supervisor }) => supervisor.status());
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('agent stopping'));
    await Promise.all([...this.supervisors.keys()].map((id) => this.stopBot(id)));
  }

  private async killLeftovers(): Promise<void> {
    const { logger } = this.options;
    try {
      const killed = await killLeftoverTrees(this.botsDir(), { logger });
      if (killed.length > 0)
        logger.warn({ trees: killed }, 'killed bot processes an earlier run of the agent left');
    } catch (err) {
      // Each bot still cleans its own tree before it starts.
      logger.error({ err }, 'could not look for processes an earlier run left');
    }
  }

  private botsDir(): string {
    return join(this.options.config.stateDir, 'bots');
  }

  private startBot(spec: BotSpec): void {
    const { config, logger, registry, hookUrl, onEvent } = this.options;
    const supervisor = new BotSupervisor({
      botId: spec.botId,
      workDir: this.workDir(spec.botId),
      // Every bot's own code counts: one that updated itself brings the others along.
      zip: () =>
        this.codeStore(spec.botId).newest(
          [...this.supervisors.keys()].map((id) => this.workDir(id)),
          this.stopping.signal,
        ),
      python: config.python,
      shimDir: SHIM_DIR,
      user: config.botUser,
      env: {
        FARM_HOOK_URL: hookUrl,
        FARM_TOKEN_CONFIG: config.tokenConfig,
        // The shim's on_before_task gives up waiting for the phone after this long.
        FARM_READY_TIMEOUT_S: String(config.readyTimeout / 1000),
        // The agent (root) can still read a non-dumpable bot's fds; its tasks cannot (bot_config.py).
        ...(config.botUser && { FARM_BOT_PRIVATE: '1' }),
        ...spec.env,
      },
      logger,
      registry,
      restartBackoff: { initialMs: 1000, maxMs: config.botRestartMax },
      crashes: { max: config.botCrashLimit, windowMs: config.botCrashWindow },
      stableAfterMs: config.botStableAfter,
      stopGraceMs: config.botStopGrace,
      terminatedRestartMs: config.botTerminatedRestart,
      onEvent: (event) => onEvent?.(spec.botId, event),
    });
    this.supervisors.set(spec.botId, { supervisor, spec });
    supervisor.start();
  }

  private workDir(botId: string): string {
    return join(this.botsDir(), botId);
  }

  private async stopBot(botId: string): Promise<void> {
    const entry = this.supervisors.get(botId);
    this.supervisors.delete(botId);
    await entry?.supervisor.stop();
  }
}

/** Undefined (the bot is no longer wanted) never equals anything. */
function sameEnv(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  if (a === undefined) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
