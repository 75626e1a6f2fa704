/**
 * The supervisor's Prometheus series for one bot. The metrics are shared by
 * every supervisor on the registry: the first one creates them.
 */
import { Counter, Gauge } from 'prom-client';
import type { Metric, Registry } from 'prom-client';
import type { RestartReason } from './bot-exit.js';

export class SupervisorMetrics {
  private readonly restarts: Counter<'bot' | 'reason'>;
  private readonly up: Gauge<'bot'>;
  private readonly quarantined: Gauge<'bot'>;

  constructor(
    registry: Registry,
    private readonly botId: string,
  ) {
    const shared = <T extends Metric>(name: string, create: () => T): T =>
      (registry.getSingleMetric(name) as T | undefined) ?? create();
    this.restarts = shared(
      'farm_bot_restarts_total',
      () =>
        new Counter({
          name: 'farm_bot_restarts_total',
          help: 'Swarming bot processes started again after an exit, by why it exited.',
          labelNames: ['bot', 'reason'],
          registers: [registry],
        }),
    );
    this.up = shared(
      'farm_bot_up',
      () =>
        new Gauge({
          name: 'farm_bot_up',
          help: '1 while the Swarming bot process runs.',
          labelNames: ['bot'],
          registers: [registry],
        }),
    );
    this.quarantined = shared(
      'farm_bot_quarantined',
      () =>
        new Gauge({
          name: 'farm_bot_quarantined',
          help: '1 while the bot is quarantined for crashing too often.',
          labelNames: ['bot'],
          registers: [registry],
        }),
    );
    // Export the series from the start so dashboards see a down bot, not a missing one.
    this.setUp(false);
    this.setQuarantined(false);
  }

  restarted(reason: RestartReason): void {
    this.restarts.inc({ bot: this.botId, reason });
  }

  setUp(up: boolean): void {
    this.up.set({ bot: this.botId }, up ? 1 : 0);
  }

  setQuarantined(quarantined: boolean): void {
    this.quarantined.set({ bot: this.botId }, quarantined ? 1 : 0);
  }
}
