/**
 * The battery thresholds beside the recovery ones (recovery-thresholds.ts): when a battery
 * counts as worn, and the band charge control keeps an idle phone in. README "Battery care"
 * lists all of them together.
 */

/** When a battery counts as worn (FARM_BATTERY_HOT_CHARGING, FARM_BATTERY_CAPACITY_MIN). */
export interface WearThresholds {
  /** A battery hotter than this while on power is cooking (°C). */
  hotChargingC: number;
  /** Below this share of its design capacity a battery is worn out (percent). */
  capacityMinPercent: number;
}

/** FARM_CHARGE_BAND_LOW / _HIGH: an idle phone's port is cut at `high`, restored at `low`. */
export interface ChargeBand {
  lowPercent: number;
  highPercent: number;
}

/** Why the band cannot work with the recovery floor, or undefined when it can. */
export function chargeBandProblem(
  band: ChargeBand,
  resumeBatteryPercent: number,
): string | undefined {
  if (band.lowPercent >= band.highPercent) {
    return `the band's low end ${band.lowPercent}% is not below its high end ${band.highPercent}%`;
  }
  if (band.lowPercent < resumeBatteryPercent) {
    return `the band's low end ${band.lowPercent}% is below FARM_BATTERY_RESUME ${resumeBatteryPercent}%: a resting phone would be too flat to wake for work`;
  }
  return undefined;
}
