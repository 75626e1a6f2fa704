import type { HostFacts } from '../host/host-facts.js';
import type { LifecycleState } from '../lifecycle/idle-counter.js';
import type { Slot } from '../devices/slot-state.js';
import type { ClusterSnapshot } from './cluster-model.js';

/**
 * What the cluster is told, from the agent's parts. The Lease keeps the
 * lifecycle by slot name (stable, readable in `kubectl get lease -o yaml`),
 * the lifecycle itself by slot key.
 */
export function clusterSnapshot(
  node: string,
  slots: readonly Slot[],
  lifecycle: LifecycleState,
  host: HostFacts | undefined,
  address?: string,
): ClusterSnapshot {
  const nameOf = new Map(slots.map((s) => [s.key, s.name]));
  return {
    node,
    lifecycle: Object.fromEntries(
      Object.entries(lifecycle).map(([key, state]) => [nameOf.get(key) ?? key, state]),
    ),
    slots: slots.map((s) => ({
      name: s.name,
      key: s.key,
      botId: s.botId,
      state: s.health.state,
      ...(s.health.reason === undefined ? {} : { reason: s.health.reason }),
      ...optional('diagnosis', s.health.diagnosis),
      ...(s.deviceTypes[0] === undefined ? {} : { deviceType: s.deviceTypes[0] }),
      ...optional('model', s.props?.get('ro.product.model')),
      ...optional('batteryPercent', s.battery?.percent),
      ...optional('temperatureC', s.temperatureC),
      ...optional('serial', s.serial),
      ...(s.taskRunning ? { taskRunning: true } : {}),
      ...optional('dimensions', presentDimensions(s.dimensions)),
      ...optional('uptimeSeconds', s.uptimeSeconds),
    })),
    ...(host === undefined ? {} : { host: { ...host } }),
    ...optional('address', address),
  };
}

/** `host:port` for the gate, an IPv6 host in brackets as in a URL; none without a host IP. */
export function agentAddress(hostIp: string | undefined, port: number): string | undefined {
  if (hostIp === undefined) return undefined;
  return hostIp.includes(':') ? `[${hostIp}]:${port}` : `${hostIp}:${port}`;
}

/** The lifecycle the Lease remembered, keyed back by slot key; slots no longer known are dropped. */
export function restoredLifecycle(
  saved: ClusterSnapshot['lifecycle'] | undefined,
  slots: readonly Slot[],
): LifecycleState {
  const keyOf = new Map(slots.map((s) => [s.name, s.key]));
  return Object.fromEntries(
    Object.entries(saved ?? {}).flatMap(([name, state]) => {
      const key = keyOf.get(name);
      return key === undefined ? [] : [[key, state]];
    }),
  );
}

/** The dimensions with a value; undefined when none has one (no phone). */
function presentDimensions(
  dimensions: Readonly<Record<string, readonly string[]>>,
): Record<string, string[]> | undefined {
  const present = Object.entries(dimensions).filter(([, values]) => values.length > 0);
  return present.length === 0
    ? undefined
    : Object.fromEntries(present.map(([k, values]) => [k, [...values]]));
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
