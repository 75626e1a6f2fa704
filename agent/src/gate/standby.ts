/**
 * Hot standby, as the HotStandbyDeployment operator keeps `busy + idleTarget` replicas: for each
 * device type, FARM_GATE_STANDBY says how many idle phones to keep awake beside the busy ones.
 * This picks them (the ones already held first, so the choice does not churn, then ready ones,
 * then asleep ones that must be woken, each by the /wake score) and says which Nodes' hold-awake
 * annotations must change. Pure.
 */
import type { CountsByType, ChoiceWeights } from '../config/gate-settings.js';
import { heartbeatFresh, type FleetNode, type FleetPhone } from './fleet-model.js';
import { phoneId, score, tierOf } from './phone-choice.js';

export interface StandbyType {
  /** FARM_GATE_STANDBY for this type. */
  idleTarget: number;
  busy: number;
  /** Idle phones chosen to stay awake; fewer than idleTarget when the type has no more. */
  held: number;
}

export interface StandbyPlan {
  /** Node → the slots to hold awake, for every node whose annotation must change. */
  changes: Map<string, string[]>;
  /** Asleep phones chosen: the gate wakes them, then they are held. */
  wake: FleetPhone[];
  byType: Record<string, StandbyType>;
}

export function typeOf(phone: FleetPhone): string {
  return phone.type ?? phone.dimensions.device_type?.[0] ?? '';
}

function targetFor(type: string, counts: CountsByType): number {
  return counts[type] ?? counts['*'] ?? 0;
}

export function planStandby(
  fleet: readonly FleetNode[],
  counts: CountsByType,
  now: number,
  weights: ChoiceWeights,
): StandbyPlan {
  const byType: Record<string, StandbyType> = {};
  const eligible = new Map<string, FleetPhone[]>();
  for (const node of fleet) {
    const usable =
      heartbeatFresh(node, now) && node.address !== undefined && node.maintenance === undefined;
    for (const phone of node.phones) {
      const type = typeOf(phone);
      const entry = (byType[type] ??= { idleTarget: targetFor(type, counts), busy: 0, held: 0 });
      if (phone.taskRunning) entry.busy += 1;
      const tier = tierOf(phone);
      if (usable && (tier === 'ready' || tier === 'asleep')) {
        eligible.set(type, [...(eligible.get(type) ?? []), phone]);
      }
    }
  }
  const chosen = new Set<string>();
  const wake: FleetPhone[] = [];
  for (const [type, entry] of Object.entries(byType)) {
    const rank = (p: FleetPhone): number => (p.asleep ? 2 : p.held ? 0 : 1);
    const picks = (eligible.get(type) ?? [])
      .sort(
        (a, b) =>
          rank(a) - rank(b) ||
          score(b, weights, 0) - score(a, weights, 0) ||
          phoneId(a).localeCompare(phoneId(b)),
      )
      .slice(0, entry.idleTarget);
    entry.held = picks.length;
    for (const p of picks) {
      chosen.add(phoneId(p));
      if (p.asleep) wake.push(p);
    }
  }
  const changes = new Map<string, string[]>();
  for (const node of fleet) {
    const want = node.phones.filter((p) => chosen.has(phoneId(p))).map((p) => p.slot);
    const have = node.phones.filter((p) => p.held).map((p) => p.slot);
    if (want.sort().join(',') !== have.sort().join(',')) changes.set(node.name, want);
  }
  return { changes, wake, byType };
}
