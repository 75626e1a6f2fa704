import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDumpsysBattery } from './parse/battery.js';
import { parsePowerSupply } from './parse/power-supply.js';
import { DEFAULT_WEAR_THRESHOLDS, batteryWear, wearProblem } from './battery-wear.js';

const fixture = (name: string) =>
  readFileSync(new URL(`./parse/fixtures/${name}`, import.meta.url), 'utf8');
const battery = (name: string) => {
  const result = parseDumpsysBattery(fixture(name));
  if (!result.ok) throw new Error(result.reason);
  return result.value;
};
const supply = (name: string) => {
  const result = parsePowerSupply(fixture(name));
  if (!result.ok) throw new Error(result.reason);
  return result.value;
};
const problem = (dumpsys: string, sysfs?: string) =>
  wearProblem(
    batteryWear(battery(dumpsys), sysfs === undefined ? undefined : supply(sysfs)),
    DEFAULT_WEAR_THRESHOLDS,
  );

describe('battery wear', () => {
  it('combines dumpsys and sysfs, dumpsys first', () => {
    expect(
      batteryWear(
        battery('battery-pixel7-android14.txt'),
        supply('power-supply-pixel6-android13.txt'),
      ),
    ).toEqual({
      health: 'good',
      temperatureC: 36.3,
      powered: true,
      chargeCounterUah: 3511000,
      chargeFullUah: 4386000,
      chargeFullDesignUah: 4614000,
      capacityPercent: 95.1,
      cycleCount: 312,
    });
  });

  it.each([
    ['battery-pixel3a-android10.txt', 'power-supply-pixel6-android13.txt', undefined],
    ['battery-nexus7-android5-crlf.txt', undefined, undefined],
    ['battery-pixel7-android14.txt', 'power-supply-denied.txt', undefined],
    // A device without a battery says health unknown: no verdict.
    ['battery-no-battery-tvbox-android9.txt', undefined, undefined],
    [
      'battery-overheat-android12.txt',
      undefined,
      'battery health overheat, battery 47.8 °C while charging > 45 °C',
    ],
    [
      'battery-pixel3a-android10.txt',
      'power-supply-worn-qualcomm-android9.txt',
      'battery capacity 73.7% of design < 80%',
    ],
    // Samsung prints what is left of its capacity itself.
    ['battery-galaxy-s9-android8-samsung.txt', undefined, 'battery capacity 77% of design < 80%'],
  ])('%s + %s: %s', (dumpsys, sysfs, want) => {
    expect(problem(dumpsys, sysfs)).toBe(want);
  });

  it('takes the kernel health when dumpsys has none, and heat counts only on power', () => {
    const partial = supply('power-supply-samsung-android12-partial.txt');
    expect(wearProblem(batteryWear(undefined, partial), DEFAULT_WEAR_THRESHOLDS)).toBe(
      'battery health overheat',
    );
    const hot = { ...battery('battery-pixel3a-android10.txt'), temperatureC: 46 };
    expect(wearProblem(batteryWear(hot, undefined), DEFAULT_WEAR_THRESHOLDS)).toBe(
      'battery 46 °C while charging > 45 °C',
    );
    expect(
      wearProblem(batteryWear({ ...hot, plugged: [] }, undefined), DEFAULT_WEAR_THRESHOLDS),
    ).toBeUndefined();
  });
});
