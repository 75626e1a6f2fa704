import { expect, it } from 'vitest';
import { DEFAULT_RECOVERY_THRESHOLDS } from '../devices/health.js';
import { guardProblem, preflightProblem } from './battery-fitness.js';

const t = DEFAULT_RECOVERY_THRESHOLDS;

it.each([
  [{ batteryPercent: 36, temperatureC: 30 }, undefined, undefined],
  // Between guard and preflight: a phone at work stays, a resting one is not woken for work.
  [
    { batteryPercent: 32, temperatureC: 34 },
    undefined,
    'battery 32% < 35%, temperature 34 °C > 33 °C',
  ],
  [{ batteryPercent: 29.5 }, 'battery 29.5% < 30%', 'battery 29.5% < 35%'],
  [{ temperatureC: 35.25 }, 'temperature 35.25 °C > 35 °C', 'temperature 35.25 °C > 33 °C'],
  [{}, undefined, undefined],
])('%j: guard %s, preflight %s', (reading, guard, preflight) => {
  expect(guardProblem(reading, t)).toBe(guard);
  expect(preflightProblem(reading, t)).toBe(preflight);
});
