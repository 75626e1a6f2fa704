/**
 * Parsers of the farm gate's own setting values: counts per device type (hot standby) and the
 * weights of the phone choice. Pure; the settings table (config/settings.ts) uses them.
 */
import type { Parser } from '../config/parse.js';

/** `sargo=1,*=0`: how many idle phones of each device type to keep awake; `*` is every other type. */
export type CountsByType = Readonly<Record<string, number>>;

const TYPE = /^(\*|[A-Za-z0-9._-]{1,64})$/;

function pairs(raw: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of raw.split(',')) {
    const text = part.trim();
    if (text === '') continue;
    const eq = text.indexOf('=');
    if (eq <= 0) throw new Error(`expected name=value, got "${text}"`);
    out.push([text.slice(0, eq).trim(), text.slice(eq + 1).trim()]);
  }
  return out;
}

export const parseCountsByType: Parser<CountsByType> = Object.assign(
  (raw: string): CountsByType => {
    const counts: Record<string, number> = {};
    for (const [type, value] of pairs(raw)) {
      if (!TYPE.test(type)) throw new Error(`"${type}" is not a device type or *`);
      if (Object.hasOwn(counts, type)) throw new Error(`"${type}" is given twice`);
      const n = Number(value);
      if (value === '' || !Number.isInteger(n) || n < 0 || n > 1000) {
        throw new Error(`${type}=${value}: expected a whole number from 0 to 1000`);
      }
      counts[type] = n;
    }
    return counts;
  },
  { allowed: '`type=count` pairs, comma-separated; `*` for every other type' },
);

/** How much each measure weighs in choosing a phone among those of the same tier. */
export interface ChoiceWeights {
  battery: number;
  temperature: number;
  idle: number;
  failures: number;
}

export const WEIGHT_NAMES = ['battery', 'temperature', 'idle', 'failures'] as const;

export const parseChoiceWeights: Parser<ChoiceWeights> = Object.assign(
  (raw: string): ChoiceWeights => {
    const weights: ChoiceWeights = { battery: 0, temperature: 0, idle: 0, failures: 0 };
    for (const [name, value] of pairs(raw)) {
      if (!(WEIGHT_NAMES as readonly string[]).includes(name)) {
        throw new Error(`unknown weight "${name}" (known: ${WEIGHT_NAMES.join(', ')})`);
      }
      const n = Number(value);
      if (value === '' || !Number.isFinite(n) || n < 0 || n > 100) {
        throw new Error(`${name}=${value}: expected a number from 0 to 100`);
      }
      weights[name as keyof ChoiceWeights] = n;
    }
    return weights;
  },
  { allowed: `\`name=weight\` pairs (${WEIGHT_NAMES.join(', ')}), 0 to 100` },
);
