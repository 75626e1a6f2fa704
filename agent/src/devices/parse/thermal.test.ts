import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { maxTemperatureC, parseDumpsysThermal } from './thermal.js';
import type { ThermalReading } from './thermal.js';

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function readings(name: string): ThermalReading[] {
  const result = parseDumpsysThermal(fixture(name));
  if (!result.ok) throw new Error(result.reason);
  return result.value.readings;
}

/** `name=value` per reading: compact enough to compare whole sections. */
const compact = (list: readonly ThermalReading[]) =>
  list.map((r) => `${r.name}:${r.type}=${String(r.value)}`);

describe('parseDumpsysThermal', () => {
  it('reads only the HAL section of a Pixel 3a (Android 10, HAL 2.0), not the cached one', () => {
    expect(compact(readings('thermal-pixel3a-android10.txt'))).toEqual([
      'battery:BATTERY=29',
      'cpu0-silver-usr:CPU=33.4',
      'cpu1-silver-usr:CPU=33.7',
      'cpu6-gold-usr:CPU=34.1',
      'gpu0-usr:GPU=32.8',
      'skin:SKIN=31.2',
      'usbc-therm-adc:USB_PORT=30.6',
      'vbat:BCL_VOLTAGE=4032',
      'ibat:BCL_CURRENT=712',
      'soc:BCL_PERCENTAGE=94',
    ]);
  });

  it('keeps the full record of a reading', () => {
    expect(readings('thermal-galaxy-a52-android12.txt')[0]).toEqual({
      name: 'AP',
      type: 'CPU',
      typeCode: 0,
      value: 25.6,
      status: 0,
    });
  });

  it.each([
    ['thermal-galaxy-a52-android12.txt', 9, 25.7],
    ['thermal-galaxy-aidl-android13.txt', 6, 34.6],
    ['thermal-skia-sdhms-android10.txt', 5, 25.3],
    ['thermal-hal1-crlf-android10.txt', 2, 31],
    ['thermal-pixel3a-android10.txt', 10, 34.1],
  ])('%s: %i readings, hottest %s °C', (name, count, hottest) => {
    const list = readings(name);
    expect(list).toHaveLength(count);
    expect(maxTemperatureC(list)).toBe(hottest);
  });

  it('maps NaN to null, reads E notation, maps unknown codes to UNKNOWN, skips garbled entries', () => {
    const list = readings('thermal-pixel7-android14-nan.txt');
    expect(compact(list)).toEqual([
      'battery:BATTERY=31.5',
      'BIG:CPU=36.873',
      'G3D:GPU=35.3',
      'disp_therm:UNKNOWN=null',
      'VIRTUAL-SKIN-CPU-HIGH:UNKNOWN=120.5',
      'VIRTUAL-SKIN:SKIN=34.29',
      'TPU:TPU=36.1',
      'modem0:MODEM=null',
      'ambient0:AMBIENT=0.0004',
      'vbat:BCL_VOLTAGE=3917',
      'future_sensor:UNKNOWN=36.6',
    ]);
    expect(list.find((r) => r.name === 'future_sensor')?.typeCode).toBe(21);
    // Neither the UNKNOWN 120.5 nor the 3917 mV battery voltage is heat.
    expect(maxTemperatureC(list)).toBe(36.873);
  });

  it.each([['thermal-hal-not-ready-android10.txt'], ['thermal-no-service-android9.txt']])(
    '%s: no readings, not an error',
    (name) => {
      expect(parseDumpsysThermal(fixture(name))).toEqual({ ok: true, value: { readings: [] } });
    },
  );

  it('ends the section at the first line that is not an entry', () => {
    const text = [
      'Thermal Status: 0',
      'Current temperatures from HAL:',
      '\tTemperature{mValue=30.0, mType=0, mName=A, mStatus=0}',
      '',
      '\tTemperature{mValue=90.0, mType=0, mName=B, mStatus=0}',
    ].join('\n');
    const result = parseDumpsysThermal(text);
    expect(result.ok && compact(result.value.readings)).toEqual(['A:CPU=30']);
  });

  it.each([
    ['', 'not a dumpsys thermalservice dump: empty output'],
    ['error: closed', 'not a dumpsys thermalservice dump: "error: closed"'],
    [
      '\tTemperature{mValue=99.0, mType=0, mName=CPU, mStatus=0}',
      'not a dumpsys thermalservice dump: "Temperature{mValue=99.0, mType=0, mName=CPU, mStatus=0}"',
    ],
  ])('%j fails with a reason', (text, reason) => {
    expect(parseDumpsysThermal(text)).toEqual({ ok: false, reason });
  });
});

describe('maxTemperatureC', () => {
  const reading = (type: ThermalReading['type'], value: number | null): ThermalReading => ({
    name: 'x',
    type,
    typeCode: 0,
    value,
    status: 0,
  });

  it.each([
    [[], undefined],
    [[reading('CPU', null)], undefined],
    [[reading('BCL_PERCENTAGE', 100), reading('UNKNOWN', 80)], undefined],
    [[reading('SKIN', -99.9)], -99.9],
    [[reading('SKIN', 20), reading('BATTERY', 36), reading('CPU', null)], 36],
    [[reading('BCL_VOLTAGE', 4000), reading('BCL_CURRENT', 500), reading('GPU', 41)], 41],
  ])('%#', (list, expected) => {
    expect(maxTemperatureC(list)).toBe(expected);
  });
});
