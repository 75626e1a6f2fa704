import { BotCodeStore, TokenSource } from '@farm-agent/bot-config';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClusterLink, ClusterParts } from './cluster/cluster-link.js';
import { ConfigError } from './config/load.js';
import type { Config } from './config/settings.js';
import type { DeviceBackend } from './devices/backend.js';
import { hostThresholds } from './host/host-maintenance.js';
import { HostMonitor } from './host/host-monitor.js';
import { ensureWritableStateDir } from './host/state-dir.js';
import { createClusterServer } from './http/cluster-server.js';
import { ExchangeLog, statusDocument } from './http/status-document.js';
import { readStatusToken } from './http/status-token.js';
import { wakeRoutes } from './http/wake-routes.js';
import type { Lifecycle } from './lifecycle/lifecycle.js';
import { slotPowerStatus, type PortPower } from './power/port-power.js';
import type { ChargeControl } from './battery/charge-control.js';
import type { RecoveryLadder } from './recovery/recovery-ladder.js';
import { buildDevices } from './build-devices.js';
import { wakingBotDevices } from './lifecycle/waking-bot-devices.js';
import { operatorOnly, operatorRoutes } from './http/operator-routes.js';
import type { HookListener } from './hook-listener.js';
import { OverrideControl } from './operator/override-control.js';
import { OperatorCredential, operatorCredentialPath } from './operator/credential.js';
import { clusterEventOf } from './swarming/bot-events.js';
import { botSettings } from './swarming/bot-settings.js';
import { rebootRequests } from './swarming/reboot-requests.js';
import { TaskDrain } from './swarming/drain.js';
import { hookAccess } from './swarming/hook-access.js';
import { SwarmingHost } from './swarming/swarming-host.js';

export interface AgentOptions {
  config: Config;
  logger: Logger;
  /** One per agent (metrics.ts), so tests can run several agents in one process. */
  registry: Registry;
  /** Opened before this module was loaded (main.ts); answers from the parts built here. */
  hooks: HookListener;
}

/**
 * The composition root (the README's "Runtime picture"). The hook listener comes first, from
 * main.ts, before this module, prom-client and what they import are loaded (hook-listener.ts:
 * until the parts below are attached no bot runs, and the hooks answer so; the calls answered
 * before the metrics registry existed are counted into it). Then built in this order,
 * each part handed to the next:
 * host monitor → devices (build-devices.ts: adb server → tracker → device I/O →
 * slots → bot devices → adb backend → lifecycle; or the host's one bot) →
 * override control → token source → Swarming host (bot code store, made for
 * the first bot) → the hook listener's parts (reads the devices, checks callers against
 * the Swarming host) → cluster listener (/status, wake and operator routes).
 * start(): the cluster listener, the host monitor, the cluster connection (before
 * adb runs: Kubernetes API → cluster reporter → cluster link), the devices,
 * the lifecycle, cluster reporting, then the bots;
 * stop() drains the bots and takes the rest down in reverse, both listeners last.
 */
export class FarmAgent {
  readonly registry: Registry;
  private readonly startedAt = Date.now();
  /** Parts that do not run, with why; logged at start and shown in /status. */
  private readonly disabled: Record<string, string> = {};
  private readonly host: HostMonitor;
  readonly devices: DeviceBackend;
  /** Idle checks, sleep and wake of the phones; none without phones. */
  private readonly lifecycle: Lifecycle | undefined;
  /** The one owner of the phones' USB port power; none without phones. */
  private readonly power: PortPower | undefined;
  /** Keeps idle phones' batteries in the band; none unless FARM_CHARGE_CONTROL. */
  private readonly charge: ChargeControl | undefined;
  /** The self-healing ladder; none without phones or with FARM_RECOVERY=false. */
  private readonly recovery: RecoveryLadder | undefined;
  /** What the cluster is told about; built beside the devices, handed over on connect. */
  private readonly clusterParts: ClusterParts;
  /** Cluster annotations, CLI commands of a standalone agent, the Pi's own health. */
  private readonly overrides: OverrideControl;
  /** Which bots run a task; on stop, no new tasks and a grace for the running ones. */
  private readonly drain = new TaskDrain();
  private readonly swarming: SwarmingHost | undefined;
  /** What operator commands must carry; written to its file (for the CLI) by start(). */
  readonly operator: OperatorCredential;
  /** What Swarming last received from each bot's hooks, for /status. */
  private readonly exchanges = new ExchangeLog();
  private readonly hooks: HookListener;
  /** The cluster-facing listener, with every route the agent serves (tests inject into it). */
  readonly clusterServer: FastifyInstance;
  /** Set once connected; undefined in standalone mode (the reason is in `disabled`). */
  private cluster: ClusterLink | undefined;
  private unsubscribeHost: (() => void) | undefined;
  private unsubscribeBots: (() => void) | undefined;

  constructor(private readonly options: AgentOptions) {
    const { config, logger } = options;
    this.registry = options.registry;
    this.hooks = options.hooks;
    const thresholds = hostThresholds(config);
    this.host = new HostMonitor({
      stateDir: config.stateDir,
      logger: logger.child({ component: 'host' }),
      registry: this.registry,
      intervalMs: config.hostPollInterval,
      thresholds,
    });
    const devices = buildDevices(config, logger, this.registry, this.host, {
      heldAwake: (slot) => this.cluster?.reporter.heldAwake(slot.name) === true,
      taskRunning: (botId) => this.drain.runs(botId),
      event: (event) => this.cluster?.reporter.event(event),
    });
    this.devices = devices.backend;
    this.lifecycle = devices.lifecycle;
    this.power = devices.power;
    this.charge = devices.charge;
    this.recovery = devices.recovery;
    this.clusterParts = devices.clusterParts;
    if (devices.disabled !== undefined) this.disabled.devices = devices.disabled;
    this.overrides = new OverrideControl({
      apply: (forSlot) => this.devices.applyOverrides(forSlot),
      logger,
    });
    if (config.swarmingServer) {
      const { swarmingServer: server, stateDir } = config;
      const swarmingLogger = logger.child({ component: 'swarming' });
      const tokens = new TokenSource({
        configPath: config.tokenConfig,
        logger: swarmingLogger,
        registry: this.registry,
      });
      this.swarming = new SwarmingHost({
        config,
        logger: swarmingLogger,
        registry: this.registry,
        hookUrl: `http://127.0.0.1:${config.hookPort}`,
        botCode: (botId) =>
          new BotCodeStore({
            server,
            botId,
            stateDir,
            tokens,
            logger: swarmingLogger,
            registry: this.registry,
          }),
        onEvent: (botId, event) => {
          if (event.type === 'exited') this.drain.botExited(botId, swarmingLogger);
          const reported = clusterEventOf(botId, event);
          if (reported) this.cluster?.reporter.event(reported);
        },
      });
    } else {
      this.disabled.swarming = 'FARM_SWARMING_SERVER is not set: no Swarming bot is run';
    }

    this.operator = new OperatorCredential(operatorCredentialPath(config.stateDir));
    const swarming = this.swarming;
    this.hooks.attach({
      authorizeCaller: swarming && hookAccess((botId) => swarming.botPid(botId), this.operator),
      // on_before_task wakes a sleeping phone and waits until it is ready.
      devices: this.drain.botDevices(
        this.lifecycle
          ? wakingBotDevices(this.devices.botDevices, this.lifecycle)
          : this.devices.botDevices,
      ),
      botQuarantine: (botId) => this.swarming?.quarantineReason(botId),
      // The bot's own disk floor and cache caps follow the agent's disk floor.
      settings: () => botSettings(thresholds, this.host.current().facts?.disk?.totalBytes),
      onRebootRequested: rebootRequests({
        registry: this.registry,
        logger,
        swarming,
        report: (event) => this.cluster?.reporter.event(event),
      }),
      onAnswered: (exchange) => this.exchanges.record(exchange),
      onServerAccepted: (botId) => this.swarming?.serverAccepted(botId),
    });
    this.clusterServer = createClusterServer({
      logger,
      registry: this.registry,
      status: () => this.status(),
      ...(config.statusTokenFile === undefined
        ? {}
        : { statusToken: readStatusToken(config.statusTokenFile) }),
    });
    const guard = operatorOnly(this.operator);
    if (this.lifecycle) {
      void this.clusterServer.register(wakeRoutes, {
        lifecycle: this.lifecycle,
        operatorOnly: guard,
      });
    }
    void this.clusterServer.register(
      operatorRoutes(
        {
          slotName: (wanted) => this.devices.resolveSlot(wanted),
          knownSlots: () => this.devices.slotNames(),
          setOverride: (kind, slot, reason) => this.overrides.set(kind, slot, reason),
          effective: () => this.overrides.bySlot(this.devices.slotNames()),
        },
        guard,
      ),
    );
  }

  async start(): Promise<void> {
    const { config, logger } = this.options;
    await ensureWritableStateDir(config.stateDir);
    await this.operator.write();
    await this.clusterServer.listen({ host: config.httpHost, port: config.httpPort });
    await this.host.start();
    this.unsubscribeHost = this.host.onMaintenanceChange(({ reason }) => {
      this.overrides.hostMaintenance(reason);
    });
    this.overrides.hostMaintenance(this.host.current().maintenance.reason);
    // Before the devices: a FARM_KUBECONFIG that cannot be used stops start-up before adb runs.
    await this.connectCluster();
    await this.devices.start();
    this.lifecycle?.start(await this.cluster?.restoredLifecycle());
    // After the lifecycle marked the phones it keeps asleep: their ports stay as they are.
    this.charge?.start();
    this.recovery?.start();
    this.cluster?.start();
    if (this.swarming) {
      const swarming = this.swarming;
      const sync = (): void => {
        swarming.setBots(this.devices.bots()).catch((err: unknown) => {
          logger.error({ err }, 'could not update the set of bots');
        });
      };
      this.unsubscribeBots = this.devices.onBotsChanged(sync);
      sync();
    }
    for (const [part, reason] of Object.entries(this.disabled)) {
      logger.warn({ part }, `${part} disabled: ${reason}`);
    }
    logger.info(
      { hookPort: config.hookPort, httpPort: config.httpPort, node: config.nodeName },
      'farm-agent started',
    );
  }

  /**
   * Drains first: the bots report maintenance so no new task starts, running
   * tasks get up to FARM_DRAIN_GRACE; then every bot's whole tree is stopped.
   */
  async stop(): Promise<void> {
    this.unsubscribeBots?.();
    this.unsubscribeHost?.();
    if (this.swarming) await this.drain.drain(this.options.config.drainGrace, this.options.logger);
    await this.swarming?.stop();
    await this.cluster?.stop();
    await this.recovery?.stop();
    await this.charge?.stop();
    await this.lifecycle?.stop();
    await this.devices.stop();
    await this.host.stop();
    await Promise.allSettled([this.hooks.server.close(), this.clusterServer.close()]);
  }

  status(): Record<string, unknown> {
    const { config } = this.options;
    return statusDocument({
      node: config.nodeName,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      disabled: this.disabled,
      swarming: {
        server: config.swarmingServer,
        pool: config.pool,
        drain: this.drain.status(),
        bots: this.swarming?.statuses(),
        exchanges: this.exchanges,
      },
      host: this.host.current(),
      lifecycle: this.lifecycle?.snapshot(),
      cluster: this.cluster?.reporter.status(),
      devices: this.devices.info(),
      slots: this.devices.statusSlots().map((slot) => {
        const power = this.power;
        if (power === undefined || !('slot' in slot)) return slot;
        const charge = this.charge?.describe(slot.slot);
        return { ...slot, power: slotPowerStatus(power, slot.slot), ...(charge && { charge }) };
      }),
    });
  }

  /** Connects to the cluster if there is one; without one the agent runs standalone. */
  private async connectCluster(): Promise<void> {
    const { config, logger } = this.options;
    const { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } = process.env;
    if (!(host && port) && config.kubeconfig === undefined) {
      this.disabled.cluster =
        'standalone: no cluster configuration (not in a pod: KUBERNETES_SERVICE_HOST/PORT unset; FARM_KUBECONFIG unset)';
      return;
    }
    // Loaded only now: a standalone agent pays nothing for the cluster link.
    const { openKubeApi, clusterReporter, ClusterLink } = await import('./cluster/cluster-link.js');
    const api = openKubeApi(config.kubeconfig, logger);
    if (typeof api === 'string') {
      // Standalone is for where no cluster is configured; a kubeconfig someone named must work.
      if (config.kubeconfig !== undefined) {
        throw new ConfigError(`FARM_KUBECONFIG=${JSON.stringify(config.kubeconfig)}: ${api}`);
      }
      this.disabled.cluster = `standalone: ${api}`;
      return;
    }
    const parts = this.clusterParts;
    const opened = new ClusterLink(
      clusterReporter(api, config, logger, this.registry, parts),
      parts,
    );
    this.cluster = opened;
    this.overrides.useCluster((kind, slot, reason) =>
      opened.reporter.setOverride(kind, slot, reason),
    );
    opened.reporter.onOverrides((cluster) => this.overrides.clusterRead(cluster));
  }
}
