import { describe, expect, it } from 'vitest';
import type { HostFacts } from './host-facts.js';
import {
  DEFAULT_HOST_THRESHOLDS,
  HOST_OK,
  diskFreeMinBytes,
  hostMaintenanceReason,
  type HostMaintenance,
} from './host-maintenance.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function facts(temperatureC: number | undefined, free?: number, total = 32 * GiB): HostFacts {
  return {
    temperatureC,
    disk:
      free === undefined
        ? undefined
        : { path: '/var/lib/farm-agent', freeBytes: free, totalBytes: total },
    readAt: 0,
    errors: {},
  };
}

/** Runs a sequence of readings through the rule, carrying its state, and returns hot/diskLow. */
function run(readings: HostFacts[]): string[] {
  let state: HostMaintenance = HOST_OK;
  return readings.map((reading) => {
    state = hostMaintenanceReason(reading, DEFAULT_HOST_THRESHOLDS, state);
    return `${state.hot ? 'H' : '.'}${state.diskLow ? 'D' : '.'}`;
  });
}

describe('hostMaintenanceReason: temperature with hysteresis', () => {
  it.each([
    ['stays fine at exactly the limit', [80], ['..']],
    ['goes hot above the limit', [80.1], ['H.']],
    ['stays hot between resume and limit', [81, 79, 76, 75], ['H.', 'H.', 'H.', 'H.']],
    ['resumes only below the resume temperature', [81, 74.9], ['H.', '..']],
    ['does not go hot again until above the limit', [81, 74, 79, 80.5], ['H.', '..', '..', 'H.']],
    ['keeps being hot while the sensor is unreadable', [81, undefined, 70], ['H.', 'H.', '..']],
    ['does not start maintenance on an unreadable sensor', [undefined, 60], ['..', '..']],
  ])('%s', (_name, temperatures, expected) => {
    expect(run(temperatures.map((t) => facts(t)))).toEqual(expected);
  });
});

describe('hostMaintenanceReason: disk', () => {
  it.each([
    // 32 GiB card: 5 % (1.6 GiB) is above the 500 MiB floor.
    ['5 % of a big disk is the floor', 32 * GiB, 1.7 * GiB, false],
    ['below 5 % of a big disk', 32 * GiB, 1.5 * GiB, true],
    // 4 GiB card: 5 % is 205 MiB, so 500 MiB wins.
    ['500 MiB wins on a small disk', 4 * GiB, 400 * MiB, true],
    ['above 500 MiB on a small disk', 4 * GiB, 501 * MiB, false],
  ])('%s', (_name, total, free, low) => {
    const verdict = hostMaintenanceReason(facts(50, free, total), DEFAULT_HOST_THRESHOLDS, HOST_OK);
    expect(verdict.diskLow).toBe(low);
    expect(verdict.hot).toBe(false);
  });

  it('computes the floor as the larger of percentage and bytes', () => {
    expect(diskFreeMinBytes(100 * GiB, DEFAULT_HOST_THRESHOLDS)).toBe(5 * GiB);
    expect(diskFreeMinBytes(1 * GiB, DEFAULT_HOST_THRESHOLDS)).toBe(500 * MiB);
  });

  it('keeps a low disk low while free space is unreadable, and clears once read again', () => {
    expect(run([facts(50, 100 * MiB), facts(50), facts(50, 10 * GiB)])).toEqual(['.D', '.D', '..']);
  });
});

describe('hostMaintenanceReason: reason text', () => {
  it('is undefined on a healthy host', () => {
    expect(
      hostMaintenanceReason(facts(50, 10 * GiB), DEFAULT_HOST_THRESHOLDS, HOST_OK).reason,
    ).toBeUndefined();
  });

  it('names both causes with the readings and limits people need', () => {
    const verdict = hostMaintenanceReason(
      facts(83.25, 300 * MiB, 8 * GiB),
      DEFAULT_HOST_THRESHOLDS,
      HOST_OK,
    );
    expect(verdict.reason).toBe(
      'host too hot: SoC 83.3 °C (limit 80 °C, resumes below 75 °C); ' +
        'host disk nearly full: 300 MiB free of 8.0 GiB on /var/lib/farm-agent (minimum 500 MiB)',
    );
  });

  it('says when a kept state rests on an unreadable probe', () => {
    const hot = hostMaintenanceReason(facts(90, 50 * MiB), DEFAULT_HOST_THRESHOLDS, HOST_OK);
    const blind = hostMaintenanceReason(facts(undefined), DEFAULT_HOST_THRESHOLDS, hot);
    expect(blind.reason).toBe(
      'host too hot: SoC unreadable (limit 80 °C, resumes below 75 °C); ' +
        'host disk nearly full: free space unreadable since it was low',
    );
  });

  it('honours configured thresholds', () => {
    const thresholds = { ...DEFAULT_HOST_THRESHOLDS, temperatureMaxC: 60, temperatureResumeC: 55 };
    expect(hostMaintenanceReason(facts(61), thresholds, HOST_OK).hot).toBe(true);
    expect(hostMaintenanceReason(facts(61), DEFAULT_HOST_THRESHOLDS, HOST_OK).hot).toBe(false);
  });
});
