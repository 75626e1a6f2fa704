import { describe, expect, it } from 'vitest';
import { cpuTemperatureOf, parseMemInfo } from './host-readings.js';

describe('parseMemInfo', () => {
  it('reads MemTotal and MemAvailable in bytes', () => {
    const text = [
      'MemTotal:        3884376 kB',
      'MemFree:          182300 kB',
      'MemAvailable:    2740112 kB',
      'Buffers:          101444 kB',
      'Cached:          2315764 kB',
      'HugePages_Total:       0',
      '',
    ].join('\n');
    expect(parseMemInfo(text)).toEqual({
      totalBytes: 3884376 * 1024,
      availableBytes: 2740112 * 1024,
    });
  });

  it('adds free, buffers and cache on a kernel without MemAvailable', () => {
    const text = 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n';
    expect(parseMemInfo(text)).toEqual({ totalBytes: 1000 * 1024, availableBytes: 420 * 1024 });
  });

  it('has no reading without MemTotal', () => {
    expect(parseMemInfo('MemFree: 100 kB\n')).toBeUndefined();
    expect(parseMemInfo('')).toBeUndefined();
  });
});

describe('cpuTemperatureOf', () => {
  it("takes the CPU's zone, in °C to a tenth", () => {
    expect(
      cpuTemperatureOf([
        { type: 'acpitz', milliCelsius: 27800 },
        { type: 'x86_pkg_temp', milliCelsius: 51234 },
      ]),
    ).toBe(51.2);
    expect(cpuTemperatureOf([{ type: 'cpu-thermal', milliCelsius: 48686 }])).toBe(48.7);
    expect(cpuTemperatureOf([{ type: 'soc-thermal', milliCelsius: 61000 }])).toBe(61);
  });

  it('falls back to the first zone, and has none without zones', () => {
    expect(cpuTemperatureOf([{ type: 'acpitz', milliCelsius: 27800 }])).toBe(27.8);
    expect(cpuTemperatureOf([])).toBeUndefined();
  });
});
