import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Slot } from './slot-state.js';

/** The per-slot Prometheus series: health state, battery, temperature. */
export class SlotMetrics {
  private readonly stateGauge: Gauge<'slot' | 'state'>;
  private readonly batteryGauge: Gauge<'slot'>;
  private readonly temperatureGauge: Gauge<'slot'>;
  /**
   * What each slot's series show: a slot's state to remove its series on change, and only
   * the series whose value changed are touched (a task starting changes the state alone).
   */
  private readonly shown = new Map<string, Shown>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.stateGauge = new Gauge({
      name: 'farm_slot_state',
      help: 'Health state of each slot: 1 for the current state.',
      labelNames: ['slot', 'state'],
      registers,
    });
    this.batteryGauge = new Gauge({
      name: 'farm_device_battery_percent',
      help: 'Battery charge of the phone in each slot.',
      labelNames: ['slot'],
      registers,
    });
    this.temperatureGauge = new Gauge({
      name: 'farm_device_temperature_celsius',
      help: 'Hottest battery or thermal HAL reading of the phone in each slot.',
      labelNames: ['slot'],
      registers,
    });
  }

  show(slot: Slot): void {
    const now: Shown = {
      state: slot.health.state,
      battery: slot.battery?.percent,
      temperature: slot.temperatureC,
    };
    const before = this.shown.get(slot.name);
    this.shown.set(slot.name, now);
    if (now.state !== before?.state) {
      if (before !== undefined) this.stateGauge.remove({ slot: slot.name, state: before.state });
      this.stateGauge.set({ slot: slot.name, state: now.state }, 1);
    }
    if (before === undefined || now.battery !== before.battery) {
      setOrRemove(this.batteryGauge, slot.name, now.battery);
    }
    if (before === undefined || now.temperature !== before.temperature) {
      setOrRemove(this.temperatureGauge, slot.name, now.temperature);
    }
  }
}

interface Shown {
  state: string;
  battery: number | undefined;
  temperature: number | undefined;
}

/** Sets a slot's series, or removes it when there is no reading. */
export function setOrRemove(gauge: Gauge<'slot'>, slot: string, value: number | undefined): void {
  if (value === undefined) gauge.remove({ slot });
  else gauge.set({ slot }, value);
}
