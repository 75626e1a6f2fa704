import { notParsed, outputLines, parsed } from './result.js';
import type { Parsed } from './result.js';

/**
 * android.os.Temperature TYPE_* by code (Android 10 to 15; the HAL's
 * TemperatureType has the same numbers).
 */
const TEMPERATURE_TYPES = [
  'CPU',
  'GPU',
  'BATTERY',
  'SKIN',
  'USB_PORT',
  'POWER_AMPLIFIER',
  'BCL_VOLTAGE',
  'BCL_CURRENT',
  'BCL_PERCENTAGE',
  'NPU',
  'TPU',
  'DISPLAY',
  'MODEM',
  'SOC',
  'WIFI',
  'CAMERA',
  'FLASHLIGHT',
  'SPEAKER',
  'AMBIENT',
  'POGO',
] as const;
export type TemperatureType = 'UNKNOWN' | (typeof TEMPERATURE_TYPES)[number];

/**
 * Types whose value is not degrees Celsius: the battery-current-limit
 * sensors carry millivolts, milliamps and percent (a Pixel's `vbat` reads
 * about 4000), and the HAL says an UNKNOWN sensor "can be in any units".
 */
const NOT_CELSIUS: ReadonlySet<TemperatureType> = new Set([
  'UNKNOWN',
  'BCL_VOLTAGE',
  'BCL_CURRENT',
  'BCL_PERCENTAGE',
]);

export interface ThermalReading {
  name: string;
  type: TemperatureType;
  /** The `mType` code as printed (codes newer than this table map to UNKNOWN). */
  typeCode: number;
  /** Null when the HAL reports NaN or infinity: the sensor has no reading. */
  value: number | null;
  /** Throttling severity, 0 (none) to 6 (shutdown). */
  status: number;
}

export interface ThermalDump {
  /** The current HAL readings; empty when the device has no thermal HAL section. */
  readings: ThermalReading[];
}

const HAL_SECTION = 'Current temperatures from HAL:';
const ENTRY = /^Temperature\{(.*)\}$/;
const ENTRY_FIELDS = /^mValue=([^,]*), mType=(-?\d+), mName=(.*), mStatus=(\d+)$/;
/** Java's Float.toString: plain or E notation; NaN and Infinity are handled apart. */
const JAVA_FLOAT = /^-?\d+(\.\d+)?(E-?\d+)?$/;
/** First lines of ThermalManagerService's dump, present whatever the HAL does. */
const SERVICE_MARKERS = ['IsStatusOverride:', 'Thermal Status:', 'HAL Ready:'];

/**
 * Parses `adb shell dumpsys thermalservice` (ThermalManagerService, Android
 * 10+). Only the `Current temperatures from HAL:` section counts: the
 * `Cached temperatures:` section above it repeats the same sensors with
 * older values (and the `TemperatureThreshold{...}` lines below are limits,
 * not readings). The section ends at the first line that is not a
 * `Temperature{...}` entry, whatever its indentation (tabs on the device,
 * often lost in copies).
 *
 * Android 9 and older have no thermal service (`Can't find service`), and a
 * HAL that is not ready prints no section: both give no readings, which is
 * not an error. Output that is neither is.
 */
export function parseDumpsysThermal(text: string): Parsed<ThermalDump> {
  const lines = outputLines(text);
  const start = lines.findIndex((line) => line.trim() === HAL_SECTION);
  if (start < 0) {
    const known =
      text.includes("Can't find service: thermalservice") ||
      SERVICE_MARKERS.some((marker) => lines.some((line) => line.startsWith(marker)));
    return known ? parsed({ readings: [] }) : notParsed('not a dumpsys thermalservice dump', text);
  }

  const readings: ThermalReading[] = [];
  for (const line of lines.slice(start + 1)) {
    const entry = ENTRY.exec(line.trim());
    if (entry === null) break;
    const reading = parseEntry(entry[1] ?? '');
    if (reading !== undefined) readings.push(reading);
  }
  return parsed({ readings });
}

function parseEntry(body: string): ThermalReading | undefined {
  const fields = ENTRY_FIELDS.exec(body);
  if (fields === null) return undefined;
  const [, rawValue = '', rawType = '', name = '', rawStatus = ''] = fields;
  const value = parseJavaFloat(rawValue);
  if (value === undefined) return undefined;
  const typeCode = Number(rawType);
  return {
    name,
    type: TEMPERATURE_TYPES[typeCode] ?? 'UNKNOWN',
    typeCode,
    value,
    status: Number(rawStatus),
  };
}

/** A number, null for NaN/Infinity (no reading), undefined for text that is no float. */
function parseJavaFloat(raw: string): number | null | undefined {
  if (raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity') return null;
  return JAVA_FLOAT.test(raw) ? Number(raw) : undefined;
}

/**
 * The hottest reading in degrees Celsius, or undefined when there is none.
 * Sensors in other units are left out (see NOT_CELSIUS); Skia's rule took
 * every value, which on a Pixel would read a battery voltage as heat.
 */
export function maxTemperatureC(readings: readonly ThermalReading[]): number | undefined {
  let max: number | undefined;
  for (const { type, value } of readings) {
    if (value === null || NOT_CELSIUS.has(type)) continue;
    if (max === undefined || value > max) max = value;
  }
  return max;
}
