/** When a phone rests for battery or heat (FARM_BATTERY_*, FARM_TEMPERATURE_*); devices/health.ts applies them. */

export interface RecoveryThresholds {
  /** Enter recovery below this battery percentage (Skia: 30). */
  minBatteryPercent: number;
  /** Enter recovery above this temperature (Skia: 35 °C). */
  maxTemperatureC: number;
  /** Leave recovery only at or above this percentage, so a phone charging at 30 % does not flap. */
  resumeBatteryPercent: number;
  /** Leave recovery only at or below this temperature. */
  resumeTemperatureC: number;
}

/** Why a set of thresholds cannot work, or undefined when it can. */
export function recoveryThresholdsProblem(t: RecoveryThresholds): string | undefined {
  if (!Object.values(t).every(Number.isFinite)) return 'recovery thresholds must be finite numbers';
  if (t.resumeBatteryPercent < t.minBatteryPercent) {
    return `resume battery ${t.resumeBatteryPercent}% is below the minimum ${t.minBatteryPercent}%: recovery would flap`;
  }
  if (t.resumeTemperatureC > t.maxTemperatureC) {
    return `resume temperature ${t.resumeTemperatureC} °C is above the maximum ${t.maxTemperatureC} °C: recovery would flap`;
  }
  return undefined;
}
