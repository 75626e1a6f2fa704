import { expect, it } from 'vitest';
import { ManualClock } from '../manual-clock.js';
import { BatteryModel } from './battery-model.js';
import { defaultState, formatDumpsysBattery, formatGrep } from './shell.js';

it('rises on power, falls without, and dumpsys and sysfs follow', async () => {
  const clock = new ManualClock();
  const state = defaultState();
  state.battery.level = 50;
  const model = new BatteryModel(state, clock);
  await clock.advance(30 * 60_000);
  model.sync();
  expect(state.battery).toMatchObject({
    level: 70,
    plugged: 'usb',
    status: 2,
    chargeCounter: 2660000,
  });
  model.setPower(false);
  await clock.advance(2.5 * 3_600_000);
  model.sync();
  expect(state.battery).toMatchObject({ level: 60, plugged: 'none', status: 3 });
  expect(formatDumpsysBattery(state.battery)).toContain('  USB powered: false\n');
  expect(formatDumpsysBattery(state.battery)).toContain('  Charge counter: 2280000\n');
  model.setPower(true);
  await clock.advance(10 * 3_600_000);
  model.sync();
  expect(state.battery).toMatchObject({ level: 100, status: 5 });
  expect(
    formatGrep(state, ['grep', '-s', '.', '/sys/class/power_supply/battery/charge_counter', '/x']),
  ).toBe('/sys/class/power_supply/battery/charge_counter:3800000\n');
});
