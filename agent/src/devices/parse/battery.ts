import { notParsed, outputLines, parsed } from './result.js';
import type { Parsed } from './result.js';

/** BatteryManager.BATTERY_STATUS_* codes. */
const STATUS = {
  1: 'unknown',
  2: 'charging',
  3: 'discharging',
  4: 'not-charging',
  5: 'full',
} as const;
export type BatteryStatus = (typeof STATUS)[keyof typeof STATUS];

/** BatteryManager.BATTERY_HEALTH_* codes. */
const HEALTH = {
  1: 'unknown',
  2: 'good',
  3: 'overheat',
  4: 'dead',
  5: 'over-voltage',
  6: 'unspecified-failure',
  7: 'cold',
} as const;
export type BatteryHealth = (typeof HEALTH)[keyof typeof HEALTH];

/** The `<X> powered:` lines, in dump order. `Dock powered` exists from Android 13 on. */
const POWER_LINES = {
  'AC powered': 'ac',
  'USB powered': 'usb',
  'Wireless powered': 'wireless',
  'Dock powered': 'dock',
} as const;
export type PowerSource = (typeof POWER_LINES)[keyof typeof POWER_LINES];

export interface Battery {
  level?: number;
  scale?: number;
  /** 100 * level / scale, when both are there, scale is positive and a battery is present. */
  percent?: number;
  /** The dump gives tenths of a degree Celsius. */
  temperatureC?: number;
  status?: BatteryStatus;
  health?: BatteryHealth;
  /** The sources reported `true`; a source whose line is missing is not listed. */
  plugged: PowerSource[];
  present?: boolean;
  /** `Charge counter` in µAh (Android 7+); absent when the phone reports 0 or less (not measured). */
  chargeCounterUah?: number;
  /**
   * What is left of the design capacity in percent, where the vendor prints it (Samsung's
   * `mSavedBatteryAsoc`, its "age state of charge").
   */
  capacityPercent?: number;
  /**
   * Someone ran `dumpsys battery set|unplug`: the values are frozen fakes
   * until `dumpsys battery reset`, not what the hardware says.
   */
  updatesStopped: boolean;
}

const FIELD_LINE = /^\s*([^:]+?):\s*(.*?)\s*$/;
const INTEGER = /^-?\d+$/;

/**
 * Parses `adb shell dumpsys battery` (BatteryService.dumpInternal), Android
 * 5 to 14 and OEM variants. Fields are read by name, not position, because
 * versions add lines (`Max charging current`, `Dock powered`, `Charging
 * state`) and OEMs append whole blocks; the first occurrence of a name wins
 * because the AOSP block comes first and OEM blocks repeat names later.
 */
export function parseDumpsysBattery(text: string): Parsed<Battery> {
  const fields = new Map<string, string>();
  let updatesStopped = false;
  for (const line of outputLines(text)) {
    if (line.includes('(UPDATES STOPPED')) updatesStopped = true;
    const match = FIELD_LINE.exec(line);
    if (match === null) continue;
    const [, name = '', value = ''] = match;
    if (!fields.has(name)) fields.set(name, value);
  }

  const integer = (name: string) => {
    const raw = fields.get(name);
    return raw !== undefined && INTEGER.test(raw) ? Number(raw) : undefined;
  };
  const boolean = (name: string) => {
    const raw = fields.get(name);
    return raw === 'true' ? true : raw === 'false' ? false : undefined;
  };

  const level = integer('level');
  const scale = integer('scale');
  const tenths = integer('temperature');
  const status = integer('status');
  const present = boolean('present');
  const plugged = Object.entries(POWER_LINES)
    .filter(([line]) => boolean(line) === true)
    .map(([, source]) => source);

  const readAnything =
    level !== undefined ||
    tenths !== undefined ||
    status !== undefined ||
    present !== undefined ||
    Object.keys(POWER_LINES).some((line) => fields.has(line));
  if (!readAnything) return notParsed('not a dumpsys battery dump', text);

  // A device without a battery (boards, TV boxes) still prints a level,
  // usually 0: it is no charge to act on.
  const hasCharge = present !== false && level !== undefined && level >= 0;
  return parsed({
    level,
    scale,
    percent: hasCharge && scale !== undefined && scale > 0 ? (100 * level) / scale : undefined,
    temperatureC: tenths === undefined ? undefined : tenths / 10,
    status: named(STATUS, status),
    health: named(HEALTH, integer('health')),
    plugged,
    present,
    ...positive('chargeCounterUah', integer('Charge counter')),
    ...positive('capacityPercent', integer('mSavedBatteryAsoc')),
    updatesStopped,
  });
}

/** `{ [key]: n }` for a positive reading, `{}` for a missing or unmeasured one. */
function positive<K extends string>(key: K, n: number | undefined): Partial<Record<K, number>> {
  return n !== undefined && n > 0 ? ({ [key]: n } as Record<K, number>) : {};
}

function named<N>(names: Readonly<Record<number, N>>, code: number | undefined): N | undefined {
  return code !== undefined && Object.hasOwn(names, code) ? names[code] : undefined;
}
