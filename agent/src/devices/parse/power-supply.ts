import { notParsed, outputLines, parsed } from './result.js';
import type { Parsed } from './result.js';

/** The kernel's view of the battery, where the phone lets the shell user read it. */
const DIR = '/sys/class/power_supply/battery';
const FILES = [
  'charge_counter',
  'charge_full',
  'charge_full_design',
  'cycle_count',
  'health',
  'temp',
] as const;

/**
 * One command for every file: `grep -s . a b ...` prints `path:value` per readable file and
 * stays silent about missing or SELinux-denied ones, which vary by vendor and version.
 */
export const POWER_SUPPLY_COMMAND = `grep -s . ${FILES.map((f) => `${DIR}/${f}`).join(' ')}`;

export interface PowerSupply {
  chargeCounterUah?: number;
  /** What a full charge holds now (µAh), as the fuel gauge learned it. */
  chargeFullUah?: number;
  /** What it held new. */
  chargeFullDesignUah?: number;
  cycleCount?: number;
  /** The kernel's words: `Good`, `Overheat`, `Dead`, `Cold`, `Over voltage`, ... */
  health?: string;
  /** Tenths of a degree in the file. */
  temperatureC?: number;
}

const LINE = new RegExp(`^${DIR}/([a-z_]+):(.*)$`);
const INTEGER = /^-?\d+$/;

/**
 * Parses the output of POWER_SUPPLY_COMMAND. Empty output is a valid answer (nothing
 * readable on this phone); text that is not `path:value` lines is not.
 */
export function parsePowerSupply(text: string): Parsed<PowerSupply> {
  const values = new Map<string, string>();
  let foreign = false;
  for (const line of outputLines(text)) {
    if (line.trim() === '') continue;
    const match = LINE.exec(line);
    if (match === null) foreign = true;
    else values.set(match[1] ?? '', (match[2] ?? '').trim());
  }
  if (foreign && values.size === 0) return notParsed('not power_supply files', text);
  const integer = (name: string, positiveOnly = true) => {
    const raw = values.get(name);
    if (raw === undefined || !INTEGER.test(raw)) return undefined;
    const n = Number(raw);
    return positiveOnly && n <= 0 ? undefined : n;
  };
  const tenths = integer('temp', false);
  const health = values.get('health');
  const cycles = integer('cycle_count', false);
  const supply: PowerSupply = {};
  const set = <K extends keyof PowerSupply>(key: K, value: PowerSupply[K] | undefined) => {
    if (value !== undefined) supply[key] = value;
  };
  set('chargeCounterUah', integer('charge_counter'));
  set('chargeFullUah', integer('charge_full'));
  set('chargeFullDesignUah', integer('charge_full_design'));
  set('cycleCount', cycles !== undefined && cycles >= 0 ? cycles : undefined);
  set('health', health === undefined || health === '' ? undefined : health);
  set('temperatureC', tenths === undefined ? undefined : tenths / 10);
  return parsed(supply);
}
