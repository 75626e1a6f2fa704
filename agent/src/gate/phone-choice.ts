/**
 * Which phone a `/wake?device_type=...` gets: among the phones whose Swarming dimensions match,
 * ready ones before asleep ones before resting ones (booting, recovering: usable soon without a
 * person); within a tier the best score of battery, temperature, idle time and recent failures,
 * weighted by FARM_GATE_WEIGHTS, as the GPU-rental provider scored its instances. Pure.
 */
import type { ChoiceWeights } from '../config/gate-settings.js';
import { heartbeatFresh, type FleetNode, type FleetPhone } from './fleet-model.js';

export type Dimensions = Record<string, string[]>;

export const TIERS = ['ready', 'asleep', 'resting'] as const;
export type Tier = (typeof TIERS)[number];

const RESTING_STATES = new Set(['booting', 'recovering', 'waking']);
const KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const VALUE_MAX = 256;

/** The dimensions asked for, or the reason the query is malformed. */
export function parseDimensionQuery(
  entries: Iterable<[string, string]>,
): { dimensions: Dimensions } | { error: string } {
  const dimensions: Dimensions = {};
  for (const [key, value] of entries) {
    if (!KEY.test(key)) return { error: `"${key}" is not a dimension name` };
    if (value.trim() === '') return { error: `${key} is empty` };
    if (value.length > VALUE_MAX) return { error: `${key} is longer than ${VALUE_MAX}` };
    (dimensions[key] ??= []).push(value.trim());
  }
  return { dimensions };
}

/** As Swarming matches a task to a bot: every value asked for is among the phone's. */
export function matches(phone: FleetPhone, wanted: Dimensions): boolean {
  return Object.entries(wanted).every(([key, values]) =>
    values.every((v) => phone.dimensions[key]?.includes(v) === true),
  );
}

/** The phone's tier, or undefined when /wake may not hand it out now. */
export function tierOf(phone: FleetPhone): Tier | undefined {
  if (phone.asleep) return 'asleep';
  if (phone.state === 'ready') return 'ready';
  return RESTING_STATES.has(phone.state) ? 'resting' : undefined;
}

export const phoneId = (p: Pick<FleetPhone, 'node' | 'slot'>): string => `${p.node}/${p.slot}`;

/** Higher is better; compares phones of one tier. */
export function score(phone: FleetPhone, weights: ChoiceWeights, failures: number): number {
  const battery = (phone.battery ?? 50) / 100;
  const heat = Math.max(0, (phone.temperatureC ?? 30) - 25) / 20;
  const idle = Math.min(phone.idleChecks, 4) / 4;
  return (
    weights.battery * battery -
    weights.temperature * heat +
    weights.idle * idle -
    weights.failures * failures
  );
}

export interface Candidate {
  phone: FleetPhone;
  address: string;
  tier: Tier;
  score: number;
}

export type Choice =
  | { found: Candidate }
  /** Phones match but none can be handed out now: by state. */
  | { busy: Record<string, number>; matching: number }
  /** Nothing matches: what the farm has for the keys asked about. */
  | { none: Record<string, Record<string, number>> };

/**
 * The best phone for `wanted`. Nodes whose heartbeat is stale, that publish no address or that
 * are in maintenance are skipped: the gate could not reach them, or should not.
 */
export function choosePhone(
  fleet: readonly FleetNode[],
  wanted: Dimensions,
  now: number,
  weights: ChoiceWeights,
  recentFailures: (id: string) => number = () => 0,
): Choice {
  const candidates: Candidate[] = [];
  const unavailable: Record<string, number> = {};
  let matching = 0;
  for (const node of fleet) {
    const usable =
      heartbeatFresh(node, now) && node.address !== undefined && node.maintenance === undefined;
    for (const phone of node.phones) {
      if (!matches(phone, wanted)) continue;
      matching += 1;
      const tier = usable ? tierOf(phone) : undefined;
      if (tier === undefined || node.address === undefined) {
        const why = usable ? phone.state : 'node unreachable';
        unavailable[why] = (unavailable[why] ?? 0) + 1;
        continue;
      }
      const failures = recentFailures(phoneId(phone));
      candidates.push({
        phone,
        address: node.address,
        tier,
        score: score(phone, weights, failures),
      });
    }
  }
  if (matching === 0) return { none: whatExists(fleet, Object.keys(wanted)) };
  const best = candidates.sort(
    (a, b) =>
      TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier) ||
      b.score - a.score ||
      phoneId(a.phone).localeCompare(phoneId(b.phone)),
  )[0];
  return best === undefined ? { busy: unavailable, matching } : { found: best };
}

/** For each key (every key the phones have when none was asked), its values and phone counts. */
export function whatExists(
  fleet: readonly FleetNode[],
  keys: readonly string[],
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const node of fleet) {
    for (const phone of node.phones) {
      const wantedKeys = keys.length > 0 ? keys : Object.keys(phone.dimensions);
      for (const key of wantedKeys) {
        for (const value of phone.dimensions[key] ?? []) {
          const values = (out[key] ??= {});
          values[value] = (values[value] ?? 0) + 1;
        }
      }
    }
  }
  return out;
}
