import type { Battery } from './parse/battery.js';
import type { PowerSupply } from './parse/power-supply.js';

export type { WearThresholds };

import type { WearThresholds } from '../config/battery-care.js';

export const DEFAULT_WEAR_THRESHOLDS: Readonly<WearThresholds> = {
  hotChargingC: 45,
  capacityMinPercent: 80,
};

/** What the phone says about its battery's wear, from `dumpsys battery` and sysfs together. */
export interface BatteryWear {
  /** `good`, `overheat`, ... from dumpsys; the kernel's word (lower-cased) when dumpsys has none. */
  health?: string;
  temperatureC?: number;
  /** On external power (charging, full, or held "not charging" by the charger). */
  powered: boolean;
  chargeCounterUah?: number;
  chargeFullUah?: number;
  chargeFullDesignUah?: number;
  /** Full-charge capacity as a share of design (percent), from sysfs or the vendor's own figure. */
  capacityPercent?: number;
  cycleCount?: number;
}

/** Health words that say nothing about wear. */
const NO_VERDICT = new Set(['good', 'unknown']);

/**
 * Combines the two sources. dumpsys comes first (what Android acts on); sysfs fills what
 * dumpsys does not print: full-charge and design capacity, cycles.
 */
export function batteryWear(
  battery: Battery | undefined,
  supply: PowerSupply | undefined,
): BatteryWear {
  const wear: BatteryWear = { powered: (battery?.plugged.length ?? 0) > 0 };
  const health = battery?.health ?? supply?.health?.toLowerCase().replace(/ /g, '-');
  const temperatureC = battery?.temperatureC ?? supply?.temperatureC;
  const chargeCounterUah = battery?.chargeCounterUah ?? supply?.chargeCounterUah;
  const full = supply?.chargeFullUah;
  const design = supply?.chargeFullDesignUah;
  const capacityPercent =
    full !== undefined && design !== undefined ? (100 * full) / design : battery?.capacityPercent;
  if (health !== undefined) wear.health = health;
  if (temperatureC !== undefined) wear.temperatureC = temperatureC;
  if (chargeCounterUah !== undefined) wear.chargeCounterUah = chargeCounterUah;
  if (full !== undefined) wear.chargeFullUah = full;
  if (design !== undefined) wear.chargeFullDesignUah = design;
  if (capacityPercent !== undefined) wear.capacityPercent = Number(capacityPercent.toFixed(1));
  if (supply?.cycleCount !== undefined) wear.cycleCount = supply.cycleCount;
  return wear;
}

/**
 * Why this battery must come out of service, or undefined. Any of: health other than good
 * (overheat, dead, over-voltage, cold, failure), hotter than the threshold while on power
 * (what swells a battery held at full), or capacity below the threshold's share of design.
 */
export function wearProblem(wear: BatteryWear, t: WearThresholds): string | undefined {
  const reasons: string[] = [];
  if (wear.health !== undefined && !NO_VERDICT.has(wear.health)) {
    reasons.push(`battery health ${wear.health}`);
  }
  if (wear.powered && wear.temperatureC !== undefined && wear.temperatureC > t.hotChargingC) {
    reasons.push(`battery ${wear.temperatureC} °C while charging > ${t.hotChargingC} °C`);
  }
  if (wear.capacityPercent !== undefined && wear.capacityPercent < t.capacityMinPercent) {
    reasons.push(`battery capacity ${wear.capacityPercent}% of design < ${t.capacityMinPercent}%`);
  }
  return reasons.length > 0 ? reasons.join(', ') : undefined;
}
