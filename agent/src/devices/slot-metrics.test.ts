import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SlotMetrics } from './slot-metrics.js';
import type { Slot } from './slot-state.js';

/** The fields show() reads; the rest of a Slot does not matter here. */
function slot(state: string, battery?: number, temperatureC?: number): Slot {
  return {
    name: 'usb-1-1-3',
    health: { state },
    ...(battery === undefined ? {} : { battery: { percent: battery } }),
    ...(temperatureC === undefined ? {} : { temperatureC }),
  } as unknown as Slot;
}

/** Every series of the three gauges as `name{labels} value`, sorted. */
async function series(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith('farm_'))
    .sort();
}

describe('SlotMetrics', () => {
  it('shows the current state, battery and temperature as each slot change leaves them', async () => {
    const registry = new Registry();
    const metrics = new SlotMetrics(registry);
    metrics.show(slot('ready', 50, 30));
    expect(await series(registry)).toEqual([
      'farm_device_battery_percent{slot="usb-1-1-3"} 50',
      'farm_device_temperature_celsius{slot="usb-1-1-3"} 30',
      'farm_slot_state{slot="usb-1-1-3",state="ready"} 1',
    ]);
    metrics.show(slot('busy', 50, 30));
    metrics.show(slot('busy', 49, 30));
    expect(await series(registry)).toEqual([
      'farm_device_battery_percent{slot="usb-1-1-3"} 49',
      'farm_device_temperature_celsius{slot="usb-1-1-3"} 30',
      'farm_slot_state{slot="usb-1-1-3",state="busy"} 1',
    ]);
    metrics.show(slot('offline'));
    expect(await series(registry)).toEqual(['farm_slot_state{slot="usb-1-1-3",state="offline"} 1']);
    metrics.show(slot('ready', 60, 31));
    expect(await series(registry)).toEqual([
      'farm_device_battery_percent{slot="usb-1-1-3"} 60',
      'farm_device_temperature_celsius{slot="usb-1-1-3"} 31',
      'farm_slot_state{slot="usb-1-1-3",state="ready"} 1',
    ]);
  });
});
