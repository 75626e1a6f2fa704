/**
 * The farm as the gate sees it, from what the agents already write: each node's heartbeat
 * Lease (inventory, lifecycle, idle checks, address) and its Node (labels, conditions, the
 * operator's and the gate's annotations). Pure: list results in, plain objects out.
 */
import { isRecord } from '@farm-agent/bot-config/lib';
import type { V1Lease, V1Node } from '@kubernetes/client-node';
import { LEASE_NAME_PREFIX, PREFIX } from '../cluster/cluster-model.js';
import { parseHoldAwake } from '../cluster/hold-awake.js';
import {
  ANNOTATION_ADDRESS,
  ANNOTATION_INVENTORY,
  parseLeaseLifecycle,
} from '../cluster/lease-annotations.js';

/** A heartbeat older than this is highlighted (and its phones are not chosen by /wake). */
export const STALE_HEARTBEAT_MS = 60_000;
/** A phone up longer than this is highlighted: it is due a reboot. */
export const LONG_UPTIME_S = 25 * 3600;

export interface FleetPhone {
  node: string;
  slot: string;
  bot: string;
  state: string;
  reason?: string;
  /** What the agent's recovery found, when it says. */
  diagnosis?: string;
  type?: string;
  model?: string;
  serial?: string;
  battery?: number;
  temperatureC?: number;
  uptimeSeconds?: number;
  /** Swarming dimensions (device_type, device_os, ...). */
  dimensions: Record<string, string[]>;
  asleep: boolean;
  /** A task runs on it (busy, or in maintenance with its task still running). */
  taskRunning: boolean;
  idleChecks: number;
  /** The gate holds it awake (hot standby). */
  held: boolean;
}

export interface FleetNode {
  name: string;
  /** `host:port` of the agent's listener, when it publishes one. */
  address?: string;
  /** Lease holder: the agent's pod. */
  pod?: string;
  /** Last Lease renewal, ms since the epoch. */
  heartbeat?: number;
  /** The Node's Ready condition; undefined without a Node object. */
  nodeReady?: boolean;
  /** The Node's farm-agent.io/ labels. */
  labels: Record<string, string>;
  /** Node-wide maintenance set on the Node (by an operator, or by the gate while updating). */
  maintenance?: string;
  host?: Record<string, unknown>;
  phones: FleetPhone[];
  /** Phones the agent left out of its inventory to stay within the annotation budget. */
  morePhones: number;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

function dimensionsOf(value: unknown): Record<string, string[]> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(
    Object.entries(value).flatMap(([k, v]) =>
      Array.isArray(v) ? [[k, v.filter((x): x is string => typeof x === 'string')]] : [],
    ),
  );
}

function parseInventory(json: string | undefined): {
  slots: Record<string, unknown>[];
  more: number;
  host?: Record<string, unknown>;
} {
  try {
    const value = JSON.parse(json ?? '{}') as unknown;
    if (!isRecord(value)) return { slots: [], more: 0 };
    return {
      slots: Array.isArray(value.slots) ? value.slots.filter(isRecord) : [],
      more: num(value.more) ?? 0,
      ...(isRecord(value.host) ? { host: value.host } : {}),
    };
  } catch {
    return { slots: [], more: 0 };
  }
}

function microTime(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(String(value));
  return Number.isNaN(ms) ? undefined : ms;
}

/** One node from its Lease and its Node; either may be missing. */
export function fleetNode(name: string, lease?: V1Lease, node?: V1Node): FleetNode {
  const annotations = lease?.metadata?.annotations ?? {};
  const nodeAnnotations = node?.metadata?.annotations ?? {};
  const inventory = parseInventory(annotations[ANNOTATION_INVENTORY]);
  const lifecycle = parseLeaseLifecycle(annotations) ?? {};
  const held = parseHoldAwake(nodeAnnotations);
  const phones = inventory.slots.flatMap((s): FleetPhone[] => {
    const slot = text(s.name);
    if (slot === undefined) return [];
    const life = lifecycle[slot];
    const optional = {
      reason: text(s.reason),
      diagnosis: text(s.diagnosis),
      type: text(s.type),
      model: text(s.model),
      serial: text(s.serial),
      battery: num(s.battery),
      temperatureC: num(s.tempC),
      uptimeSeconds: num(s.up),
    };
    return [
      {
        node: name,
        slot,
        bot: text(s.bot) ?? '',
        state: text(s.state) ?? 'unknown',
        ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
        dimensions: dimensionsOf(s.dims),
        asleep: life?.asleep === true || s.state === 'asleep',
        taskRunning: s.task === true || s.state === 'busy',
        idleChecks: life?.idleChecks ?? 0,
        held: held.has(slot),
      },
    ];
  });
  const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
  const heartbeat = microTime(lease?.spec?.renewTime);
  const address = annotations[ANNOTATION_ADDRESS];
  const maintenance = nodeAnnotations[`${PREFIX}/maintenance`];
  return {
    name,
    ...(address === undefined ? {} : { address }),
    ...(lease?.spec?.holderIdentity ? { pod: lease.spec.holderIdentity } : {}),
    ...(heartbeat === undefined ? {} : { heartbeat }),
    ...(ready === undefined ? {} : { nodeReady: ready.status === 'True' }),
    labels: Object.fromEntries(
      Object.entries(node?.metadata?.labels ?? {}).filter(([k]) => k.startsWith(`${PREFIX}/`)),
    ),
    ...(maintenance === undefined ? {} : { maintenance: maintenance || 'maintenance' }),
    ...(inventory.host === undefined ? {} : { host: inventory.host }),
    phones,
    morePhones: inventory.more,
  };
}

/** The node an agent's Lease is named after; undefined for any other Lease. */
function nodeOfLease(lease: V1Lease): string | undefined {
  const name = lease.metadata?.name ?? '';
  if (lease.metadata?.labels?.['app.kubernetes.io/name'] !== 'farm-agent') return undefined;
  return name.startsWith(LEASE_NAME_PREFIX) ? name.slice(LEASE_NAME_PREFIX.length) : undefined;
}

/**
 * The fleet from the two lists: a node per agent Lease plus Nodes labelled as phone hosts
 * that have no Lease yet (an agent that never started).
 */
export function fleetFrom(leases: readonly V1Lease[], nodes: readonly V1Node[]): FleetNode[] {
  const nodeByName = new Map(nodes.map((n) => [n.metadata?.name ?? '', n]));
  const leaseByNode = new Map<string, V1Lease>();
  for (const lease of leases) {
    const node = nodeOfLease(lease);
    if (node !== undefined) leaseByNode.set(node, lease);
  }
  const names = new Set(leaseByNode.keys());
  for (const node of nodes) {
    if (node.metadata?.labels?.[`${PREFIX}/phones-host`] === 'true') {
      names.add(node.metadata.name ?? '');
    }
  }
  names.delete('');
  return [...names]
    .sort()
    .map((name) => fleetNode(name, leaseByNode.get(name), nodeByName.get(name)));
}

/** Whether the phone has been up long enough to be due a reboot. */
export function longUptime(phone: FleetPhone): boolean {
  return (phone.uptimeSeconds ?? 0) > LONG_UPTIME_S;
}

/** Whether the node's agent has renewed its Lease recently. */
export function heartbeatFresh(node: FleetNode, now: number): boolean {
  return node.heartbeat !== undefined && now - node.heartbeat <= STALE_HEARTBEAT_MS;
}
