import type { readProps, Vitals } from './interrogate.js';
import { maxTemperatureC } from './parse/thermal.js';
import type { SlotState } from './slot-state.js';
import { deriveAndroidDimensions } from './swarming-dimensions.js';
import type { DimensionOptions } from './swarming-dimensions.js';

/** What reading a phone's properties gave. */
export type PropsReading = Awaited<ReturnType<typeof readProps>>;

/** Applies read properties, or notes why they could not be read. */
export function applyProps(slot: SlotState, props: PropsReading, opts: DimensionOptions): void {
  if (!props.ok) {
    slot.readingErrors['props'] = props.reason;
    // Try again next refresh: a phone still starting may not answer yet.
    slot.propsStale = true;
    return;
  }
  slot.readingErrors = without(slot.readingErrors, ['props']);
  slot.props = props.value.props;
  slot.lastDimensions = deriveAndroidDimensions(slot.props, opts);
}

/** Applies the readings; true when the uptime went back (the phone rebooted). */
export function applyVitals(slot: SlotState, vitals: Vitals): boolean {
  const errors = without(slot.readingErrors, Object.keys(vitals));
  for (const [name, reading] of Object.entries(vitals)) {
    if (!reading.ok) errors[name] = reading.reason;
  }
  slot.readingErrors = errors;
  const { battery, powerSupply, thermal, uptimeSeconds, bootCompleted } = vitals;
  slot.battery = battery.ok ? battery.value : undefined;
  slot.powerSupply = powerSupply.ok ? powerSupply.value : undefined;
  slot.thermal = thermal.ok ? thermal.value.readings : undefined;
  const hottest = [slot.battery?.temperatureC, maxTemperatureC(slot.thermal ?? [])].filter(
    (t) => t !== undefined,
  );
  slot.temperatureC = hottest.length > 0 ? Math.max(...hottest) : undefined;
  const rebooted =
    uptimeSeconds.ok &&
    slot.uptimeSeconds !== undefined &&
    uptimeSeconds.value < slot.uptimeSeconds;
  if (uptimeSeconds.ok) slot.uptimeSeconds = uptimeSeconds.value;
  // Unreadable reads as not booted: the safe answer, it only delays tasks.
  slot.bootCompleted = bootCompleted.ok && bootCompleted.value;
  return rebooted;
}

/** Readings describe a phone that is here; a phone that left has none. */
export function forgetReadings(slot: SlotState): void {
  delete slot.battery;
  delete slot.powerSupply;
  delete slot.temperatureC;
  delete slot.thermal;
  slot.bootCompleted = false;
  slot.readingErrors = {};
}

function without(record: Record<string, string>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key)));
}
