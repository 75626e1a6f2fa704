/** Fleet builders for the gate's pure tests. */
import type { FleetNode, FleetPhone } from '../../agent/src/gate/fleet-model.js';

export const NOW = Date.parse('2026-12-01T12:00:00Z');

export function phone(node: string, slot: string, extra: Partial<FleetPhone> = {}): FleetPhone {
  return {
    node,
    slot,
    bot: `${node}-${slot}`,
    state: 'ready',
    type: 'sargo',
    dimensions: { device_type: [extra.type ?? 'sargo'], device_os: ['Q'] },
    asleep: false,
    taskRunning: extra.state === 'busy',
    idleChecks: 0,
    held: false,
    ...extra,
  };
}

export function node(
  name: string,
  phones: FleetPhone[],
  extra: Partial<FleetNode> = {},
): FleetNode {
  return {
    name,
    address: `10.0.0.${name.replace(/\D/g, '') || '1'}:8080`,
    pod: `farm-agent-${name}`,
    heartbeat: NOW - 5_000,
    nodeReady: true,
    labels: {},
    phones,
    morePhones: 0,
    ...extra,
  };
}
