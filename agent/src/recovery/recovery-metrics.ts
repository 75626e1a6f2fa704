import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Rung, SymptomKind } from './ladder-rules.js';

/** What a rung came to: the phone came back, did not, the rung could not run, or it errored. */
export type RungOutcome = 'worked' | 'no-effect' | 'refused' | 'error';

/** The recovery ladder's Prometheus series. */
export class RecoveryMetrics {
  private readonly rungs: Counter<'rung' | 'outcome'>;
  private readonly episodes: Counter<'symptom' | 'result'>;
  private readonly outOfService: Gauge<'slot'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.rungs = new Counter({
      name: 'farm_recovery_rungs_total',
      help: 'Recovery rungs taken (reconnect, reboot, power-cycle), by outcome: worked, no-effect, refused, error.',
      labelNames: ['rung', 'outcome'],
      registers,
    });
    this.episodes = new Counter({
      name: 'farm_recovery_episodes_total',
      help: 'Phones the recovery ladder took on, by symptom and result: recovered, failed (quarantined), out-of-service (budget spent), abandoned (a task or a person came first).',
      labelNames: ['symptom', 'result'],
      registers,
    });
    this.outOfService = new Gauge({
      name: 'farm_recovery_out_of_service',
      help: 'Whether the slot sits out a cool-off after failing too often (1) or not (0).',
      labelNames: ['slot'],
      registers,
    });
  }

  rung(rung: Rung, outcome: RungOutcome): void {
    this.rungs.inc({ rung, outcome });
  }

  episode(
    symptom: SymptomKind,
    result: 'recovered' | 'failed' | 'out-of-service' | 'abandoned',
  ): void {
    this.episodes.inc({ symptom, result });
  }

  resting(slot: string, resting: boolean): void {
    this.outOfService.set({ slot }, resting ? 1 : 0);
  }
}
