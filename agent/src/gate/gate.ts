/**
 * The farm gate's composition root: the fleet list feeds, after each round, the failure log,
 * the hot standby (hold-awake annotations, wakes) and the rollout; the HTTP routes answer from
 * the last list. It loads no device code: everything it knows comes from the cluster and the
 * agents' HTTP listeners.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { errorMessage, systemClock, type Clock } from '@farm-agent/bot-config/lib';
import { ANNOTATION_HOLD_AWAKE, holdAwakeValue } from '../cluster/hold-awake.js';
import type { Config } from '../config/settings.js';
import { slotOnAgent, wakeOnAgent } from './agent-link.js';
import { FailureLog } from './failure-log.js';
import { heartbeatFresh, longUptime, type FleetNode, type FleetPhone } from './fleet-model.js';
import { FleetWatch, type FleetSnapshot } from './fleet-watch.js';
import type { GateKubeApi } from './gate-kube.js';
import { gateRoutes, type GateActions, type WakeAnswer, type WakeOutcome } from './gate-routes.js';
import { choosePhone, phoneId, type Dimensions } from './phone-choice.js';
import { indexRows, phoneRows, tablePage, type IndexedRow } from './phone-table.js';
import { ReviewGuard } from './review-guard.js';
import { Rollout } from './rollout.js';
import { planStandby, type StandbyType } from './standby.js';

/** How many phones one /wake tries when agents do not answer. */
const WAKE_ATTEMPTS = 3;

export interface FarmGateOptions {
  config: Config;
  logger: Logger;
  api: GateKubeApi;
  clock?: Clock;
}

interface View {
  /** The fleet snapshot this view was built from. */
  from: FleetSnapshot;
  rows: IndexedRow[];
  states: Record<string, number>;
  json: string;
}

const describe = (d: Dimensions): string =>
  Object.entries(d)
    .flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`))
    .join(' ') || 'any dimension';

function hostOf(address: string): string {
  return address.replace(/:\d+$/, '');
}

export class FarmGate {
  readonly server: FastifyInstance;
  readonly fleet: FleetWatch;
  private readonly failures = new FailureLog();
  private readonly rollout: Rollout | undefined;
  private readonly clock: Clock;
  private standby: Record<string, StandbyType> = {};
  private view: View | undefined;

  constructor(private readonly options: FarmGateOptions) {
    const { config, logger, api } = options;
    this.clock = options.clock ?? systemClock;
    this.fleet = new FleetWatch({
      api,
      namespace: config.namespace,
      intervalMs: config.gateRelistInterval,
      clock: this.clock,
      logger: logger.child({ component: 'fleet' }),
    });
    this.rollout =
      config.gateDaemonSet === 'none'
        ? undefined
        : new Rollout({
            api,
            namespace: config.namespace,
            daemonSet: config.gateDaemonSet,
            maxWaitMs: config.gateRolloutMaxWait,
            podName: config.podName,
            clock: this.clock,
            logger: logger.child({ component: 'rollout' }),
          });
    this.fleet.onUpdate(() => this.afterList());
    this.server = Fastify({
      loggerInstance: logger.child({ listener: 'gate' }) as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
    });
    const guard = new ReviewGuard(api, this.clock, logger.child({ component: 'review' }));
    void this.server.register(
      gateRoutes(
        this.actions(),
        guard.requires({
          verb: 'update',
          group: 'apps',
          resource: 'daemonsets',
          namespace: config.namespace,
          name: config.gateDaemonSet,
        }),
      ),
    );
  }

  async start(): Promise<void> {
    const { config, logger } = this.options;
    await this.server.listen({ host: config.httpHost, port: config.httpPort });
    this.fleet.start();
    logger.info({ port: config.httpPort }, 'farm gate started');
  }

  async stop(): Promise<void> {
    await this.fleet.stop();
    await this.server.close();
  }

  private async afterList(): Promise<void> {
    const { fleet } = this.fleet.snapshot;
    const now = this.clock.now();
    if (this.fleet.stale(now)) return;
    this.failures.observe(fleet, now);
    await this.keepStandby(fleet, now);
    await this.rollout?.round(fleet);
    this.view = undefined;
  }

  private async keepStandby(fleet: readonly FleetNode[], now: number): Promise<void> {
    const { config, api, logger } = this.options;
    const plan = planStandby(fleet, config.gateStandby, now, config.gateWeights);
    this.standby = plan.byType;
    for (const phone of plan.wake) await this.wakePhone(phone, fleet);
    for (const [node, slots] of plan.changes) {
      try {
        await api.patchNode(node, {
          metadata: { annotations: { [ANNOTATION_HOLD_AWAKE]: holdAwakeValue(slots) } },
        });
      } catch (err) {
        logger.warn({ node, err: errorMessage(err) }, 'cannot set the hold-awake annotation');
      }
    }
  }

  /** Wakes one phone through its agent; a failure counts against the phone. */
  private async wakePhone(phone: FleetPhone, fleet: readonly FleetNode[]) {
    const address = fleet.find((n) => n.name === phone.node)?.address;
    if (address === undefined) return undefined;
    try {
      return await wakeOnAgent(address, phone.slot);
    } catch (err) {
      this.failures.record(phoneId(phone), this.clock.now());
      this.options.logger.warn(
        { node: phone.node, slot: phone.slot, err: errorMessage(err) },
        'the agent did not wake the phone',
      );
      return undefined;
    }
  }

  private answer(phone: FleetPhone, address: string, ready: boolean, woke: boolean): WakeAnswer {
    return {
      node: phone.node,
      slot: phone.slot,
      serial: phone.serial ?? null,
      model: phone.model ?? null,
      adb: `${hostOf(address)}:${this.options.config.adbPort}`,
      ready,
      woke,
      state: ready ? 'ready' : woke ? 'waking' : phone.state,
    };
  }

  private async wake(wanted: Dimensions): Promise<WakeOutcome> {
    const now = this.clock.now();
    const { snapshot } = this.fleet;
    if (this.fleet.stale(now)) {
      return {
        status: 503,
        error: `the gate cannot list the farm: ${snapshot.error ?? 'not yet'}`,
      };
    }
    const excluded = new Set<string>();
    for (let attempt = 0; attempt < WAKE_ATTEMPTS; attempt++) {
      const fleet = snapshot.fleet.map((n) => ({
        ...n,
        phones: n.phones.filter((p) => !excluded.has(phoneId(p))),
      }));
      const choice = choosePhone(fleet, wanted, now, this.options.config.gateWeights, (id) =>
        this.failures.count(id, now),
      );
      if (excluded.size > 0 && !('found' in choice)) break;
      if ('none' in choice) {
        return {
          status: 404,
          error: `no phone has ${describe(wanted)}`,
          wanted,
          available: choice.none,
        };
      }
      if ('busy' in choice) {
        return {
          status: 503,
          error: `none of the ${choice.matching} phones with ${describe(wanted)} can be woken now`,
          states: choice.busy,
        };
      }
      const { phone, address } = choice.found;
      const result = await this.wakePhone(phone, snapshot.fleet);
      if (result !== undefined)
        return {
          status: 200,
          answer: this.answer(phone, address, result.ready, result.woke.length > 0),
        };
      excluded.add(phoneId(phone));
    }
    return { status: 502, error: `the agents of ${[...excluded].join(', ')} did not answer` };
  }

  private async phoneStatus(nodeName: string, slot: string): Promise<WakeOutcome> {
    const node = this.fleet.snapshot.fleet.find((n) => n.name === nodeName);
    const phone = node?.phones.find((p) => p.slot === slot);
    if (node === undefined || phone === undefined) {
      return { status: 404, error: `no phone ${nodeName}/${slot} in the farm` };
    }
    if (node.address === undefined) {
      return { status: 503, error: `${nodeName}'s agent publishes no address (FARM_HOST_IP)` };
    }
    try {
      const view = await slotOnAgent(node.address, slot);
      if (view === undefined)
        return { status: 404, error: `${nodeName}'s agent has no slot ${slot}` };
      return {
        status: 200,
        answer: {
          ...this.answer(phone, node.address, view.ready, false),
          serial: view.serial,
          model: view.model,
          state: view.state,
          ...(view.reason === null ? {} : { reason: view.reason }),
        },
      };
    } catch (err) {
      return { status: 502, error: `${nodeName}'s agent does not answer: ${errorMessage(err)}` };
    }
  }

  /** The page's rows and /status, built once per list rather than per request. */
  private current(): View {
    const from = this.fleet.snapshot;
    const { fleet, listedAt, error } = from;
    if (this.view?.from === from) return this.view;
    const now = this.clock.now();
    const rows = phoneRows(fleet, now);
    const states: Record<string, number> = {};
    for (const r of rows) states[r.state] = (states[r.state] ?? 0) + 1;
    const json = JSON.stringify({
      generatedAt: new Date(now).toISOString(),
      ...(listedAt === undefined ? {} : { listedAt: new Date(listedAt).toISOString() }),
      stale: this.fleet.stale(now),
      ...(error === undefined ? {} : { error }),
      standby: this.standby,
      ...(this.rollout === undefined ? {} : { rollout: this.rollout.status() }),
      nodes: fleet.map((n) => ({
        ...n,
        lastSeen: n.heartbeat === undefined ? null : new Date(n.heartbeat).toISOString(),
        staleHeartbeat: !heartbeatFresh(n, now),
        phones: n.phones.map((p) => ({
          ...p,
          longUptime: longUptime(p),
        })),
      })),
    });
    this.view = { from, rows: indexRows(rows), states, json };
    return this.view;
  }

  private actions(): GateActions {
    return {
      healthy: () => {
        const { error } = this.fleet.snapshot;
        return this.fleet.stale(this.clock.now())
          ? {
              ok: false,
              error: `the fleet view is stale${error === undefined ? '' : `: ${error}`}`,
            }
          : { ok: true };
      },
      statusJson: () => this.current().json,
      table: (query) => {
        const view = this.current();
        const { error } = this.fleet.snapshot;
        return {
          ...tablePage(view.rows, query),
          states: view.states,
          nodes: this.fleet.snapshot.fleet.length,
          stale: this.fleet.stale(this.clock.now()),
          ...(error === undefined ? {} : { error }),
        };
      },
      wake: (wanted) => this.wake(wanted),
      phoneStatus: (node, slot) => this.phoneStatus(node, slot),
      setRolloutPaused: (paused) => {
        if (this.rollout === undefined)
          return { error: 'replacing pods is off (FARM_GATE_DAEMONSET=none)' };
        this.rollout.paused = paused;
        this.view = undefined;
        return this.rollout.status();
      },
    };
  }
}
