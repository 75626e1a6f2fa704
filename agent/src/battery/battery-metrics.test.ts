import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gauge } from 'prom-client';
import { afterEach, expect, it, vi } from 'vitest';
import { defaultState } from '../../../test/rigs/fake-adbd/shell.js';
import { ManualClock } from '../../../test/rigs/manual-clock.js';
import { scriptedSlots, shellOf } from '../../../test/rigs/scripted-slots.js';
import { BatteryMetrics } from './battery-metrics.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** One phone at 60 % (inside the 40-80 % band), its slot changes observed by the metrics. */
async function phoneAt60Percent() {
  const dir = await mkdtemp(join(tmpdir(), 'battery-metrics-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const clock = new ManualClock();
  const { devices, manager, registry } = scriptedSlots(dir, clock, { refreshIntervalMs: 60_000 });
  const metrics = new BatteryMetrics(registry, { lowPercent: 40, highPercent: 80 }, clock);
  manager.onSlotChanged((slot) => metrics.observe(slot));
  await manager.start();
  cleanups.push(() => manager.stop());
  const state = defaultState();
  state.battery.level = 60;
  devices.attach('R58N', { devicePath: 'usb:1-1.3', answer: shellOf(state) });
  await manager.idle();
  return { clock, manager, registry, state };
}

it('shows power, wear figures and the time spent inside the band', async () => {
  const { clock, manager, registry, state } = await phoneAt60Percent();
  const value = async (name: string) =>
    (await registry.getSingleMetric(name)?.get())?.values.find(
      (v) => v.labels['slot'] === 'usb-1-1-3',
    )?.value;

  expect(await value('farm_device_battery_powered')).toBe(1);
  expect(await value('farm_device_battery_capacity_percent')).toBe(95);
  expect(await value('farm_device_battery_cycles')).toBe(212);
  await clock.advance(60_000);
  await manager.idle();
  // Still in the band, and counted up to the scrape, not only to the last change.
  await clock.advance(30_000);
  expect(await value('farm_device_battery_in_band_seconds')).toBe(90);
  state.battery.level = 85;
  state.battery.plugged = 'none';
  await clock.advance(30_000);
  await manager.idle();
  await clock.advance(600_000);
  expect(await value('farm_device_battery_in_band_seconds')).toBe(120);
  expect(await value('farm_device_battery_powered')).toBe(0);
});

it('sets nothing again on a change that brings no new reading (a task starting or ending)', async () => {
  const { clock, manager, registry, state } = await phoneAt60Percent();
  const powered = registry.getSingleMetric('farm_device_battery_powered') as
    Gauge<'slot'> | undefined;
  if (powered === undefined) throw new Error('no battery series');
  const set = vi.spyOn(powered, 'set');
  const inBand = async () =>
    (await registry.getSingleMetric('farm_device_battery_in_band_seconds')?.get())?.values[0]
      ?.value;

  await clock.advance(10_000);
  manager.taskStarted('usb:1-1.3');
  await clock.advance(10_000);
  await manager.taskEnded('usb:1-1.3');
  expect(set).not.toHaveBeenCalled();
  expect(await inBand()).toBe(20);
  // The next reading is observed as before.
  state.battery.plugged = 'none';
  await clock.advance(40_000);
  await manager.idle();
  expect(set).toHaveBeenCalledWith({ slot: 'usb-1-1-3' }, 0);
  expect(await inBand()).toBe(60);
});
