/**
 * Parsers of the farm gate's own setting values: counts per device type (hot standby) and the
 * weights of the phone choice, and the gate's settings table.
 */
import { durationIn, parseSwarmingId, type Parser } from './parse.js';
import { setting } from './setting.js';

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

/** The farm gate (`farm-agent gate`): its fleet view, phone choice, hot standby and rollouts. */
export const GATE_SETTINGS = {
  gateRelistInterval: setting({
    env: 'FARM_GATE_RELIST_INTERVAL',
    doc: 'Farm gate (`farm-agent gate`): how often it lists the Leases and Nodes. Its view counts as stale (`/healthz` 503, a banner on the page) after three intervals without a successful list.',
    parse: durationIn('1s', '10m'),
    default: '10s',
  }),
  gateStandby: setting({
    env: 'FARM_GATE_STANDBY',
    doc: 'Farm gate: idle phones kept awake per device type (hot standby: awake = busy + this), e.g. `sargo=1,*=0`.',
    parse: parseCountsByType,
    default: '*=0',
  }),
  gateWeights: setting({
    env: 'FARM_GATE_WEIGHTS',
    doc: 'Farm gate: weights of battery, temperature, idle time and recent failures when `/wake` chooses among phones equally ready.',
    parse: parseChoiceWeights,
    default: 'battery=1,temperature=1,idle=0.5,failures=2',
  }),
  gateDaemonSet: setting({
    env: 'FARM_GATE_DAEMONSET',
    doc: 'Farm gate: the agents’ DaemonSet (in `FARM_NAMESPACE`) whose old pods it replaces; `none` turns replacing off.',
    parse: parseSwarmingId,
    default: 'farm-agent',
  }),
  gateRolloutMaxWait: setting({
    env: 'FARM_GATE_ROLLOUT_MAX_WAIT',
    doc: 'Farm gate: longest it waits for a drained node’s tasks to end (or its new pod to be ready) before it goes on anyway, saying so in an Event.',
    parse: durationIn('1m', '48h'),
    default: '2h',
  }),
};
