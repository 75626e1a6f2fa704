import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { IdleCounterState } from './idle-counter.js';

export type SleepReason = 'idle-checks' | 'operator';
export type WakeReason = 'operator' | 'task';

/** The lifecycle's Prometheus series. */
export class LifecycleMetrics {
  private readonly idleGauge: Gauge<'slot'>;
  private readonly asleepGauge: Gauge<'slot'>;
  private readonly wakes: Counter<'reason'>;
  private readonly sleeps: Counter<'reason'>;
  private readonly sleepFailures: Counter;
  private readonly wakeFailures: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.idleGauge = new Gauge({
      name: 'farm_idle_checks',
      help: 'Idle checks in a row of each slot; it sleeps at FARM_IDLE_CHECKS.',
      labelNames: ['slot'],
      registers,
    });
    this.asleepGauge = new Gauge({
      name: 'farm_slot_asleep',
      help: 'Whether the phone of each slot was put to sleep (1) or is awake (0).',
      labelNames: ['slot'],
      registers,
    });
    this.wakes = new Counter({
      name: 'farm_wakes_total',
      help: 'Slots woken from sleep, by who asked: operator (/wake, CLI) or task.',
      labelNames: ['reason'],
      registers,
    });
    this.sleeps = new Counter({
      name: 'farm_sleeps_total',
      help: 'Slots put to sleep, by why: idle-checks or operator.',
      labelNames: ['reason'],
      registers,
    });
    this.sleepFailures = new Counter({
      name: 'farm_sleep_failures_total',
      help: 'Sleep actions (KEYCODE_SLEEP, uhubctl off) that failed; the slot stayed awake.',
      registers,
    });
    this.wakeFailures = new Counter({
      name: 'farm_wake_failures_total',
      help: 'Wake actions (KEYCODE_WAKEUP, uhubctl on) that failed; the slot stayed asleep.',
      registers,
    });
  }

  show(slotName: string, { idleChecks, asleep }: IdleCounterState): void {
    this.idleGauge.set({ slot: slotName }, idleChecks);
    this.asleepGauge.set({ slot: slotName }, asleep ? 1 : 0);
  }

  slept(reason: SleepReason): void {
    this.sleeps.inc({ reason });
  }

  woke(reason: WakeReason): void {
    this.wakes.inc({ reason });
  }

  sleepFailed(): void {
    this.sleepFailures.inc();
  }

  wakeFailed(): void {
    this.wakeFailures.inc();
  }
}
