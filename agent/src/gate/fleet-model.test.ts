import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { slot, snap } from '../../../test/rigs/cluster-snapshots.js';
import { leaseBody } from '../cluster/lease-writer.js';
import { fleetFrom } from './fleet-model.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

/** The Lease exactly as the agent writes it: the gate reads what the agent's own code produces. */
function agentLease() {
  const snapshot = snap(
    [
      slot('usb-1-1', 'ready', {
        deviceType: 'sargo',
        model: 'Pixel 3a',
        batteryPercent: 87.4,
        temperatureC: 31.26,
        serial: 'A1',
        dimensions: { device_type: ['sargo'], device_os: ['Q'] },
        uptimeSeconds: 100_000,
      }),
      slot('usb-1-2', 'asleep', { reason: 'idle' }),
    ],
    { 'usb-1-1': { idleChecks: 2, asleep: false }, 'usb-1-2': { idleChecks: 0, asleep: true } },
  );
  const body = leaseBody(
    { name: 'farm-agent-pi-1', holder: 'farm-agent-x7', durationSeconds: 40 },
    { ...snapshot, address: '10.0.0.1:8080', host: { model: 'Pi 4' } },
    NOW,
  );
  // What the server hands back: MicroTimes as strings.
  return JSON.parse(JSON.stringify(body)) as typeof body;
}

const NODE: V1Node = {
  metadata: {
    name: 'pi-1',
    labels: { 'farm-agent.io/phones': '2', 'kubernetes.io/hostname': 'pi-1' },
    annotations: { 'farm-agent.io/hold-awake': 'usb-1-1', 'farm-agent.io/maintenance': '' },
  },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
};

describe('fleetFrom', () => {
  it("reads the agent's own Lease and its Node into one node with its phones", () => {
    const [pi1] = fleetFrom([agentLease()], [NODE]);
    expect(pi1).toEqual({
      name: 'pi-1',
      address: '10.0.0.1:8080',
      pod: 'farm-agent-x7',
      heartbeat: NOW,
      nodeReady: true,
      labels: { 'farm-agent.io/phones': '2' },
      maintenance: 'maintenance',
      host: { model: 'Pi 4' },
      morePhones: 0,
      phones: [
        {
          node: 'pi-1',
          slot: 'usb-1-1',
          bot: 'pi-1-usb-1-1',
          state: 'ready',
          type: 'sargo',
          model: 'Pixel 3a',
          serial: 'A1',
          battery: 87,
          temperatureC: 31.3,
          uptimeSeconds: 100_000,
          dimensions: { device_type: ['sargo'], device_os: ['Q'] },
          asleep: false,
          taskRunning: false,
          idleChecks: 2,
          held: true,
        },
        {
          node: 'pi-1',
          slot: 'usb-1-2',
          bot: 'pi-1-usb-1-2',
          state: 'asleep',
          reason: 'idle',
          dimensions: {},
          asleep: true,
          taskRunning: false,
          idleChecks: 0,
          held: false,
        },
      ],
    });
  });

  it('lists phone hosts without a Lease, ignores other Leases, survives a garbled inventory', () => {
    const garbled = agentLease();
    const annotations = garbled.metadata?.annotations ?? {};
    annotations['farm-agent.io/inventory'] = '{not json';
    const other = { metadata: { name: 'kube-scheduler', labels: {} }, spec: {} };
    const host: V1Node = {
      metadata: { name: 'pi-2', labels: { 'farm-agent.io/phones-host': 'true' } },
    };
    const fleet = fleetFrom([garbled, other], [NODE, host, { metadata: { name: 'gpu-1' } }]);
    expect(fleet.map((n) => [n.name, n.phones.length, n.heartbeat !== undefined])).toEqual([
      ['pi-1', 0, true],
      ['pi-2', 0, false],
    ]);
  });
});
