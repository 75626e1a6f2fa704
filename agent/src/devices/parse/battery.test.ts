import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDumpsysBattery } from './battery.js';

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseDumpsysBattery', () => {
  it.each([
    [
      'battery-nexus7-android5-crlf.txt',
      {
        level: 87,
        scale: 100,
        percent: 87,
        temperatureC: 29.2,
        status: 'charging',
        health: 'good',
        plugged: ['usb'],
        present: true,
        updatesStopped: false,
      },
    ],
    [
      'battery-pixel3a-android10.txt',
      {
        level: 94,
        scale: 100,
        percent: 94,
        temperatureC: 28,
        status: 'charging',
        health: 'good',
        plugged: ['usb'],
        present: true,
        chargeCounterUah: 2448973,
        updatesStopped: false,
      },
    ],
    [
      // Samsung appends its own block, repeating `level` and `temperature`.
      'battery-galaxy-s20-android10.txt',
      {
        level: 100,
        scale: 100,
        percent: 100,
        temperatureC: 31.8,
        status: 'full',
        health: 'good',
        plugged: ['ac'],
        present: true,
        chargeCounterUah: 2783000,
        updatesStopped: false,
      },
    ],
    [
      'battery-pixel7-android14.txt',
      {
        level: 76,
        scale: 100,
        percent: 76,
        temperatureC: 36.3,
        status: 'charging',
        health: 'good',
        plugged: ['dock'],
        present: true,
        chargeCounterUah: 3511000,
        updatesStopped: false,
      },
    ],
    [
      'battery-updates-stopped-android12.txt',
      {
        level: 5,
        scale: 100,
        percent: 5,
        temperatureC: -4,
        status: 'discharging',
        health: 'good',
        plugged: [],
        present: true,
        chargeCounterUah: 2972000,
        updatesStopped: true,
      },
    ],
    [
      // Android 8 on Samsung: a charge counter of 0 (not measured), its saved capacity in its extras.
      'battery-galaxy-s9-android8-samsung.txt',
      {
        level: 84,
        scale: 100,
        percent: 84,
        temperatureC: 32.6,
        status: 'charging',
        health: 'good',
        plugged: ['usb'],
        present: true,
        capacityPercent: 77,
        updatesStopped: false,
      },
    ],
    [
      'battery-overheat-android12.txt',
      {
        level: 91,
        scale: 100,
        percent: 91,
        temperatureC: 47.8,
        status: 'not-charging',
        health: 'overheat',
        plugged: ['ac'],
        present: true,
        chargeCounterUah: 3104000,
        updatesStopped: false,
      },
    ],
    [
      'battery-no-battery-tvbox-android9.txt',
      {
        level: 0,
        scale: 100,
        temperatureC: 0,
        status: 'unknown',
        health: 'unknown',
        plugged: ['ac'],
        present: false,
        updatesStopped: false,
      },
    ],
    [
      // Cut off mid-line, with an unknown status code, a garbled level and a zero scale.
      'battery-truncated.txt',
      { scale: 0, health: 'good', plugged: ['usb'], updatesStopped: false },
    ],
  ])('%s', (name, expected) => {
    const result = parseDumpsysBattery(fixture(name));
    expect(result).toEqual({ ok: true, value: expected });
  });

  it('reports no percent for a device without a battery', () => {
    const result = parseDumpsysBattery(fixture('battery-no-battery-tvbox-android9.txt'));
    expect(result.ok && result.value.percent).toBeUndefined();
  });

  it.each([
    ['level: 1\nscale: 3\n', 100 / 3],
    ['level: 150\nscale: 1000\n', 15],
    ['level: 7\n', undefined],
    ['level: 7\nscale: -100\n', undefined],
    ['level: -1\nscale: 100\n', undefined],
  ])('percent of %j is %s', (text, percent) => {
    const result = parseDumpsysBattery(text);
    expect(result.ok && result.value.percent).toBe(percent);
  });

  it.each([
    [
      fixture('battery-no-service.txt'),
      'not a dumpsys battery dump: "Can\'t find service: battery"',
    ],
    ['', 'not a dumpsys battery dump: empty output'],
    [
      'Current Battery Service state:\n',
      'not a dumpsys battery dump: "Current Battery Service state:"',
    ],
    ['error: device offline', 'not a dumpsys battery dump: "error: device offline"'],
  ])('%j fails with a reason', (text, reason) => {
    expect(parseDumpsysBattery(text)).toEqual({ ok: false, reason });
  });
});
