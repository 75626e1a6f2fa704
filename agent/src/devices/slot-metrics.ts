import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Slot } from './slot-state.js';

/** The per-slot Prometheus series: health state, battery, temperature. */
export class SlotMetrics {
  private readonly stateGauge: Gauge<'slot' | 'state'>;
  private readonly batteryGauge: Gauge<'slot'>;
  private readonly temperatureGauge: Gauge<'slot'>;
  /** The state each slot's `farm_slot_state` series shows, to remove it on change. */
  private readonly statesShown = new Map<string, string>();

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
    const previous = this.statesShown.get(slot.name);
    if (previous !== undefined) this.stateGauge.remove({ slot: slot.name, state: previous });
    this.stateGauge.set({ slot: slot.name, state: slot.health.state }, 1);
    this.statesShown.set(slot.name, slot.health.state);
    setOrRemove(this.batteryGauge, slot.name, slot.battery?.percent);
    setOrRemove(this.temperatureGauge, slot.name, slot.temperatureC);
  }
}

/** Sets a slot's series, or removes it when there is no reading. */
export function setOrRemove(gauge: Gauge<'slot'>, slot: string, value: number | undefined): void {
  if (value === undefined) gauge.remove({ slot });
  else gauge.set({ slot }, value);
}
