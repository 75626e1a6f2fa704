import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { ChargeBand } from '../config/battery-care.js';
import { setOrRemove } from '../devices/slot-metrics.js';
import type { Slot } from '../devices/slot-state.js';
import { batteryWear } from '../devices/battery-wear.js';

/** Since when a slot's last reading was in the band, and the seconds counted before. */
interface BandTime {
  inBand: boolean;
  since: number;
  seconds: number;
}

/**
 * Per-slot battery series beside the level (devices/slot-metrics.ts): whether the phone is on
 * power, how long its battery has been inside the charge band, and the wear figures the
 * phone reports (capacity share of design, cycles).
 */
export class BatteryMetrics {
  private readonly charging: Gauge<'slot'>;
  private readonly capacity: Gauge<'slot'>;
  private readonly cycles: Gauge<'slot'>;
  private readonly bandTimes = new Map<string, BandTime>();
  /** The readings each slot's series were last set from (a reading is a new object). */
  private readonly observed = new Map<string, Pick<Slot, 'battery' | 'powerSupply'>>();

  constructor(
    registry: Registry,
    private readonly band: ChargeBand,
    private readonly clock: Clock,
  ) {
    const registers = [registry];
    this.charging = new Gauge({
      name: 'farm_device_battery_powered',
      help: 'Whether the phone in each slot is on external power (1) or on its battery (0).',
      labelNames: ['slot'],
      registers,
    });
    this.capacity = new Gauge({
      name: 'farm_device_battery_capacity_percent',
      help: 'Full-charge capacity of the battery as a share of its design, where the phone reports it.',
      labelNames: ['slot'],
      registers,
    });
    this.cycles = new Gauge({
      name: 'farm_device_battery_cycles',
      help: 'Charge cycles of the battery, where the phone reports them.',
      labelNames: ['slot'],
      registers,
    });
    const times = this.bandTimes;
    const now = () => this.clock.now();
    new Gauge({
      name: 'farm_device_battery_in_band_seconds',
      help: 'Seconds the battery of each slot was read inside the charge band, since the agent started.',
      labelNames: ['slot'],
      registers,
      collect() {
        for (const [slot, time] of times) this.set({ slot }, secondsInBand(time, now()));
      },
    });
  }

  /**
   * Called with every slot change. Most (a task starting or ending) bring no new reading: then
   * nothing here changes, and the band time counted so far stays right as it is.
   */
  observe(slot: Slot): void {
    const battery = slot.battery;
    const last = this.observed.get(slot.name);
    if (last !== undefined && last.battery === battery && last.powerSupply === slot.powerSupply) {
      return;
    }
    this.observed.set(slot.name, { battery, powerSupply: slot.powerSupply });
    const wear = batteryWear(battery, slot.powerSupply);
    setOrRemove(this.charging, slot.name, battery === undefined ? undefined : Number(wear.powered));
    setOrRemove(this.capacity, slot.name, wear.capacityPercent);
    setOrRemove(this.cycles, slot.name, wear.cycleCount);
    const percent = battery?.percent;
    if (percent === undefined) return;
    const now = this.clock.now();
    const previous = this.bandTimes.get(slot.name);
    const inBand = percent >= this.band.lowPercent && percent <= this.band.highPercent;
    const seconds = previous === undefined ? 0 : secondsInBand(previous, now);
    this.bandTimes.set(slot.name, { inBand, since: now, seconds });
  }
}

function secondsInBand(time: BandTime, now: number): number {
  return time.seconds + (time.inBand ? (now - time.since) / 1000 : 0);
}
