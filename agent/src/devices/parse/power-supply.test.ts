import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POWER_SUPPLY_COMMAND, parsePowerSupply } from './power-supply.js';

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parsePowerSupply', () => {
  it.each([
    [
      'power-supply-pixel6-android13.txt',
      {
        chargeCounterUah: 3512000,
        chargeFullUah: 4386000,
        chargeFullDesignUah: 4614000,
        cycleCount: 312,
        health: 'Good',
        temperatureC: 28.5,
      },
    ],
    [
      // A fuel gauge that does not count cycles says -1.
      'power-supply-worn-qualcomm-android9.txt',
      {
        chargeCounterUah: 1650000,
        chargeFullUah: 2210000,
        chargeFullDesignUah: 3000000,
        health: 'Good',
        temperatureC: 30.1,
      },
    ],
    [
      // SELinux lets only some files through: the rest are simply absent.
      'power-supply-samsung-android12-partial.txt',
      { chargeFullUah: 4000000, health: 'Overheat', temperatureC: 45.2 },
    ],
    ['power-supply-denied.txt', {}],
  ])('%s', (name, expected) => {
    expect(parsePowerSupply(fixture(name))).toEqual({ ok: true, value: expected });
  });

  it('reads CRLF output and skips garbled values', () => {
    const text =
      '/sys/class/power_supply/battery/charge_full:12ab\r\n' +
      '/sys/class/power_supply/battery/charge_full_design:0\r\n' +
      '/sys/class/power_supply/battery/health:\r\n' +
      '/sys/class/power_supply/battery/temp:-52\r\r\n';
    expect(parsePowerSupply(text)).toEqual({ ok: true, value: { temperatureC: -5.2 } });
  });

  it('fails on output that is not the files', () => {
    expect(parsePowerSupply(fixture('power-supply-no-grep.txt'))).toEqual({
      ok: false,
      reason: 'not power_supply files: "/system/bin/sh: grep: inaccessible or not found"',
    });
  });

  it('asks for every file in one silent grep', () => {
    expect(POWER_SUPPLY_COMMAND).toBe(
      'grep -s . /sys/class/power_supply/battery/charge_counter /sys/class/power_supply/battery/charge_full /sys/class/power_supply/battery/charge_full_design /sys/class/power_supply/battery/cycle_count /sys/class/power_supply/battery/health /sys/class/power_supply/battery/temp',
    );
  });
});
