import type { RecoveryThresholds } from '../config/recovery-thresholds.js';

/** What a phone's fitness for work is judged on; undefined is "not read". */
export interface FitnessReading {
  batteryPercent?: number;
  /** Hottest battery or thermal HAL reading. */
  temperatureC?: number;
}

/**
 * The preflight: may this phone be put to work (woken, or let out of recovery)? Only at or
 * above FARM_BATTERY_RESUME and at or below FARM_TEMPERATURE_RESUME. Undefined when it
 * passes, else why not. The same floor is the task floor: `on_before_task` waits for it.
 */
export function preflightProblem(r: FitnessReading, t: RecoveryThresholds): string | undefined {
  return problems(r, t.resumeBatteryPercent, t.resumeTemperatureC);
}

/**
 * The guard: must a phone at work yield (go into recovery)? Below FARM_BATTERY_MIN or above
 * FARM_TEMPERATURE_MAX. The gap between guard and preflight is the hysteresis that keeps a
 * phone charging at the floor from flapping.
 */
export function guardProblem(r: FitnessReading, t: RecoveryThresholds): string | undefined {
  return problems(r, t.minBatteryPercent, t.maxTemperatureC);
}

function problems(r: FitnessReading, minBattery: number, maxTemperature: number) {
  const reasons: string[] = [];
  if (r.batteryPercent !== undefined && r.batteryPercent < minBattery) {
    reasons.push(`battery ${short(r.batteryPercent)}% < ${minBattery}%`);
  }
  if (r.temperatureC !== undefined && r.temperatureC > maxTemperature) {
    reasons.push(`temperature ${short(r.temperatureC)} °C > ${maxTemperature} °C`);
  }
  return reasons.length > 0 ? reasons.join(', ') : undefined;
}

/** Two decimals at most (`33.33`, `22`): enough that the shown inequality holds. */
function short(n: number): string {
  return String(Number(n.toFixed(2)));
}
