/**
 * The farm gate against the strict fake API, with one node whose agent is real (its wake routes
 * and lifecycle over two sleeping scripted phones) and others that only have their Lease: the
 * fleet view from two lists (never per page view), /wake by dimension through the real agent,
 * what it says when nothing matches or the query is malformed, and hot standby.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterSnapshot, SnapshotSlot } from '../../agent/src/cluster/cluster-model.js';
import type { WakeAnswer } from '../../agent/src/gate/gate-routes.js';
import { reportRealNode, startGateRig, type GateRig } from '../rigs/gate-rig.js';
import { startSleepingNode, type Cleanups } from '../rigs/sleeping-node.js';
import { waitFor } from '../rigs/test-bots.js';
import { freePort } from '../rigs/ports.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A phone a Lease reports, with the Swarming dimensions the gate matches on. */
function leasePhone(name: string, type: string, extra: Partial<SnapshotSlot> = {}): SnapshotSlot {
  return {
    name,
    key: `usb:${name}`,
    botId: `${name}-bot`,
    state: 'ready',
    deviceType: type,
    serial: `${name}-serial`,
    dimensions: { device_type: [type], device_os: ['Q'] },
    batteryPercent: 80,
    temperatureC: 30,
    ...extra,
  };
}

function snapshot(node: string, slots: SnapshotSlot[], address?: string): ClusterSnapshot {
  return {
    node,
    slots,
    lifecycle: Object.fromEntries(
      slots.map((s) => [s.name, { idleChecks: 1, asleep: s.state === 'asleep' }]),
    ),
    ...(address === undefined ? {} : { address }),
  };
}

/** pi-1 has a real agent over two sleeping phones. */
async function farmWithRealNode(rig: GateRig) {
  const node = await startSleepingNode(cleanups, { enumerateMs: 300 });
  reportRealNode(rig, 'pi-1', node);
  return { node };
}

describe('farm gate: fleet view and /wake', () => {
  it('serves /status and the page from periodic lists, never from API calls per view', async () => {
    const rig = await startGateRig(cleanups);
    await farmWithRealNode(rig);
    const dead = `127.0.0.1:${await freePort()}`;
    rig.agentReports(
      snapshot(
        'pi-2',
        [
          leasePhone('usb-1-1', 'sargo', { uptimeSeconds: 26 * 3600 }),
          leasePhone('usb-1-2', 'sargo', { state: 'busy' }),
        ],
        dead,
      ),
    );
    await rig.relist();
    const listed = rig.kube.requests.length;
    for (let i = 0; i < 20; i++) {
      expect((await rig.get('/status')).status).toBe(200);
      expect((await rig.get('/phones?sort=battery&dir=desc')).status).toBe(200);
    }
    expect(rig.kube.requests.length).toBe(listed);
    // What the lists were: Leases in the namespace and Nodes, paged.
    expect(
      new Set(rig.kube.requests.map((r) => `${r.method} ${r.path} limit=${r.query.limit}`)),
    ).toEqual(
      new Set([
        'GET /apis/coordination.k8s.io/v1/namespaces/farm/leases limit=500',
        'GET /api/v1/nodes limit=500',
      ]),
    );

    const status = (await rig.get('/status')).body as {
      stale: boolean;
      nodes: {
        name: string;
        address?: string;
        staleHeartbeat: boolean;
        phones: Record<string, unknown>[];
      }[];
    };
    expect(status.stale).toBe(false);
    expect(status.nodes.map((n) => [n.name, n.phones.length, n.staleHeartbeat])).toEqual([
      ['pi-1', 2, false],
      ['pi-2', 2, false],
    ]);
    expect(status.nodes[0]?.phones[0]).toMatchObject({
      slot: 'usb-1-1-1',
      serial: 'R58N',
      state: 'asleep',
      asleep: true,
      model: 'SM-G980F',
      dimensions: { device_type: expect.arrayContaining(['x1s']) as unknown },
    });
    expect(status.nodes[1]?.phones[0]).toMatchObject({
      battery: 80,
      temperatureC: 30,
      idleChecks: 1,
      longUptime: true,
    });

    // A minute later without a renewal, the heartbeat is stale.
    await rig.clock.advance(61_000);
    await rig.relist();
    const later = (await rig.get('/status')).body as typeof status;
    expect(later.nodes.map((n) => n.staleHeartbeat)).toEqual([true, true]);
    expect((await rig.get('/healthz')).status).toBe(200);
    // The API away for three intervals: the view is stale, and /healthz says so.
    await rig.kube.setDown(true);
    await rig.clock.advance(31_000);
    await rig.relist();
    const health = await rig.get('/healthz');
    expect(health.status).toBe(503);
    expect(JSON.stringify(health.body)).toContain('stale');
    await rig.kube.setDown(false);
  });

  it('wakes the best matching phone through its real agent and answers until it is ready', async () => {
    const rig = await startGateRig(cleanups);
    const { node } = await farmWithRealNode(rig);
    rig.agentReports(
      snapshot('pi-2', [leasePhone('usb-1-1', 'sargo')], `127.0.0.1:${await freePort()}`),
    );
    await rig.relist();

    const res = await fetch(`${rig.url}/wake?device_type=x1s&device_os=Q`, { method: 'POST' });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as WakeAnswer;
    // Both real phones are asleep: the fuller battery (85 % against 42 %) wins.
    expect(answer).toEqual({
      node: 'pi-1',
      slot: 'usb-1-1-1',
      serial: 'R58N',
      model: 'SM-G980F',
      adb: '127.0.0.1:5037',
      ready: false,
      woke: true,
      state: 'waking',
    });
    // The agent powered the port on, and only that one.
    expect(node.hub.calls.filter((args) => args.at(-1) === 'on')).toEqual([
      expect.arrayContaining(['-p', '1']) as unknown,
    ]);
    await waitFor('the phone to be ready', async () => {
      const poll = await rig.get('/wake/status?node=pi-1&slot=usb-1-1-1');
      return poll.status === 200 && (poll.body as WakeAnswer).ready;
    });
    expect((await rig.get('/wake/status?node=pi-1&slot=usb-1-1-1')).body).toMatchObject({
      state: 'ready',
      serial: 'R58N',
    });
  });

  it('says what exists (404), what is busy (503), what is malformed (400), who did not answer (502)', async () => {
    const rig = await startGateRig(cleanups);
    const dead = `127.0.0.1:${await freePort()}`;
    rig.agentReports(
      snapshot(
        'pi-2',
        [leasePhone('usb-1-1', 'sargo'), leasePhone('usb-1-2', 'walleye', { state: 'busy' })],
        dead,
      ),
    );
    await rig.relist();
    expect(await rig.get('/wake?device_type=bluejay')).toEqual({
      status: 404,
      body: {
        status: 404,
        error: 'no phone has device_type=bluejay',
        wanted: { device_type: ['bluejay'] },
        available: { device_type: { sargo: 1, walleye: 1 } },
      },
    });
    expect(await rig.get('/wake?device_type=walleye')).toMatchObject({
      status: 503,
      body: { states: { busy: 1 } },
    });
    expect(await rig.get('/wake?device%20type=sargo')).toMatchObject({
      status: 400,
      body: { error: '"device type" is not a dimension name' },
    });
    expect(await rig.get('/wake/status?node=pi-2')).toMatchObject({ status: 400 });
    expect(await rig.get('/phones?sort=owner')).toMatchObject({ status: 400 });
    expect(await rig.get('/wake?device_type=sargo')).toMatchObject({
      status: 502,
      body: { error: 'the agents of pi-2/usb-1-1 did not answer' },
    });
    // A person gets the same refusal as a page, with the same status.
    const page = await rig.get('/wake?device_type=bluejay', { accept: 'text/html' });
    expect(page.status).toBe(404);
    expect(String(page.body)).toContain('no phone has device_type=bluejay');
  });
});

describe('farm gate: hot standby', () => {
  it('holds idleTarget idle phones per type awake and moves the hold when one gets busy', async () => {
    const rig = await startGateRig(cleanups, { FARM_GATE_STANDBY: 'sargo=1,*=0' });
    const address = `127.0.0.1:${await freePort()}`;
    const full = leasePhone('usb-1-1', 'sargo', { batteryPercent: 95 });
    rig.agentReports(snapshot('pi-2', [full], address));
    rig.agentReports(
      snapshot('pi-3', [leasePhone('usb-1-1', 'sargo', { batteryPercent: 50 })], address),
    );
    rig.agentReports(snapshot('pi-4', [leasePhone('usb-1-1', 'walleye')], address));
    await rig.relist();
    const held = () =>
      ['pi-2', 'pi-3', 'pi-4'].map(
        (n) =>
          (rig.kube.get('nodes', n)?.metadata?.annotations as Record<string, string> | undefined)?.[
            'farm-agent.io/hold-awake'
          ] ?? null,
      );
    expect(held()).toEqual(['usb-1-1', null, null]);
    const patches = () => rig.kube.requests.filter((r) => r.method === 'PATCH').length;
    expect(patches()).toBe(1);
    // Nothing changed: nothing written.
    await rig.relist();
    expect(patches()).toBe(1);
    // The held phone takes a task: busy + 1 idle means the other one is held now.
    rig.agentReports(snapshot('pi-2', [{ ...full, state: 'busy' }], address));
    await rig.relist();
    expect(held()).toEqual([null, 'usb-1-1', null]);
    const status = (await rig.get('/status')).body as { standby: unknown };
    expect(status.standby).toEqual({
      sargo: { idleTarget: 1, busy: 1, held: 1 },
      walleye: { idleTarget: 0, busy: 0, held: 0 },
    });
  });
});
