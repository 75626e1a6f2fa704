import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeKube,
  type RecordedRequest,
  startFakeKube,
} from '../../../test/rigs/fake-kube/index.js';
import { ManualClock } from '../../../test/rigs/manual-clock.js';
import type { ClusterSnapshot, SnapshotSlot } from './cluster-model.js';
import {
  ClusterReporter,
  type ClusterReporterOptions,
  type OperatorOverrides,
} from './cluster-reporter.js';
import { KubeApi } from './kube-client.js';

/**
 * The reporter against the strict fake API server over real HTTP, with its production periods
 * (10 s renewal, 30 s Node poll, 1 s debounce, 5 s between change rounds) on a manual clock:
 * time moves only when a test lets it, one timer at a time, and each step waits for the API
 * calls it started. Minutes of behaviour take well under a second and counts are exact.
 */

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const LEASE_PATH = '/apis/coordination.k8s.io/v1/namespaces/farm/leases/farm-agent-pi-1';
const NODE_STATUS_PATH = '/api/v1/nodes/pi-1/status';

let kube: FakeKube;
let api: KubeApi;
let clock: ManualClock;
let registry: Registry;
const reporters: ClusterReporter[] = [];

function apiFor(k: FakeKube, timeoutMs = 1000): KubeApi {
  const connection = { server: k.url, rejectUnauthorized: false, token: { token: k.token } };
  return new KubeApi(connection, { timeoutMs });
}

function slot(name: string, state: string, deviceType = 'sargo'): SnapshotSlot {
  return { name, key: `usb:${name}`, botId: `pi-1-${name}`, state, deviceType, batteryPercent: 80 };
}

/** A mutable snapshot the test changes, as the agent's state would. */
function world(): ClusterSnapshot {
  return {
    node: 'pi-1',
    slots: [slot('usb-1-1', 'ready'), slot('usb-1-2', 'ready')],
    lifecycle: {
      'usb-1-1': { idleChecks: 0, asleep: false },
      'usb-1-2': { idleChecks: 0, asleep: false },
    },
  };
}

function reporter(
  snapshot: ClusterSnapshot,
  options: Partial<ClusterReporterOptions> = {},
): ClusterReporter {
  registry = new Registry();
  const r = new ClusterReporter({
    api,
    node: 'pi-1',
    namespace: 'farm',
    podName: 'farm-agent-abcde',
    snapshot: () => structuredClone(snapshot),
    logger: pino({ level: 'silent' }),
    registry,
    clock,
    ...options,
  });
  reporters.push(r);
  return r;
}

/**
 * Until the started reporter sleeps on the manual clock again: the API calls of its round, real
 * HTTP, have all come back (a stalled one after its own timeout, in real time).
 */
async function asleep(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (clock.nextTimerAt === undefined) {
    if (Date.now() > deadline) throw new Error('the reporter never went back to sleep');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Fires the reporter's timers in order until `cond` holds; fails after `withinMs` of clock. */
async function until(what: string, cond: () => boolean, withinMs = 60_000): Promise<void> {
  const end = clock.now() + withinMs;
  for (;;) {
    await asleep();
    if (cond()) return;
    const next = clock.nextTimerAt ?? Number.POSITIVE_INFINITY;
    if (next > end) throw new Error(`no ${what} within ${withinMs} ms`);
    await clock.advance(next - clock.now());
  }
}

/** Lets `ms` of clock pass, timer by timer. */
async function run(ms: number): Promise<void> {
  const end = clock.now() + ms;
  for (;;) {
    await asleep();
    const next = clock.nextTimerAt ?? Number.POSITIVE_INFINITY;
    if (next > end) break;
    await clock.advance(next - clock.now());
  }
  await clock.advance(end - clock.now());
}

const isWrite = (r: RecordedRequest): boolean => r.method !== 'GET';
const writesSince = (n: number): RecordedRequest[] => kube.requests.slice(n).filter(isWrite);
const labelsOf = (): Record<string, string> | undefined =>
  kube.get('nodes', 'pi-1')?.metadata?.labels as Record<string, string> | undefined;
const leaseAnnotation = (key: string): string | undefined =>
  (
    kube.get('leases', 'farm-agent-pi-1', 'farm')?.metadata?.annotations as Record<string, string>
  )?.[key];
const eventsCreated = (): Record<string, unknown>[] =>
  kube.requests
    .filter((r) => r.method === 'POST' && r.path.endsWith('/events') && r.status === 201)
    .map((r) => r.body as Record<string, unknown>);

beforeEach(async () => {
  clock = new ManualClock();
  kube = await startFakeKube();
  kube.put('nodes', { metadata: { name: 'pi-1', labels: { 'kubernetes.io/hostname': 'pi-1' } } });
  api = apiFor(kube);
});

afterEach(async () => {
  await Promise.all(reporters.splice(0).map((r) => r.stop()));
  api.close();
  await kube.close();
});

describe('ClusterReporter: Lease', () => {
  it('creates the Lease, then renews it with a PUT carrying the resourceVersion, MicroTimes right', async () => {
    const r = reporter(world());
    r.start();
    await until('two renewals', () => kube.requests.filter((q) => q.method === 'PUT').length >= 2);
    const create = kube.requests.find((q) => q.method === 'POST' && q.path.endsWith('/leases'));
    const puts = kube.requests.filter((q) => q.method === 'PUT' && q.path === LEASE_PATH);
    type LeaseBody = { metadata: Record<string, string>; spec: Record<string, unknown> };
    const first = create?.body as LeaseBody;
    expect(first.spec).toMatchObject({
      holderIdentity: 'farm-agent-abcde',
      leaseDurationSeconds: 40,
    });
    expect(first.spec.renewTime).toMatch(MICRO_TIME);
    expect(first.spec.acquireTime).toMatch(MICRO_TIME);
    for (const put of puts) {
      const body = put.body as LeaseBody;
      expect(put.status).toBe(200);
      expect(body.metadata.resourceVersion).toMatch(/^\d+$/);
      expect(body.spec.renewTime).toMatch(MICRO_TIME);
      // Same holder: the acquisition time stays.
      expect(body.spec.acquireTime).toBe(first.spec.acquireTime);
    }
    expect(leaseAnnotation('farm-agent.io/lifecycle')).toBe(
      '{"usb-1-1":"awake","usb-1-2":"awake"}',
    );
    expect(JSON.parse(leaseAnnotation('farm-agent.io/inventory') ?? '')).toMatchObject({
      slots: [
        { name: 'usb-1-1', bot: 'pi-1-usb-1-1', state: 'ready', type: 'sargo', battery: 80 },
        {},
      ],
    });
    expect(r.status()).toMatchObject({
      reachable: true,
      lastRenewAt: expect.any(String) as unknown,
    });
  });

  it('an agent restart restores idle counters and sleep state, then takes the Lease over', async () => {
    const w = world();
    w.lifecycle = {
      'usb-1-1': { idleChecks: 3, asleep: false },
      'usb-1-2': { idleChecks: 0, asleep: true },
    };
    const before = reporter(w);
    expect(await before.restore()).toBeUndefined();
    before.start();
    await until('the Lease', () => leaseAnnotation('farm-agent.io/idle-checks') !== undefined);
    await before.stop();

    const after = reporter(world(), { podName: 'farm-agent-fghij' });
    expect(await after.restore()).toEqual(w.lifecycle);
    after.start();
    await until('the new holder', () => {
      const spec = kube.get('leases', 'farm-agent-pi-1', 'farm')?.spec as Record<string, unknown>;
      return spec.holderIdentity === 'farm-agent-fghij';
    });
    expect(kube.get('leases', 'farm-agent-pi-1', 'farm')?.spec).toMatchObject({
      leaseTransitions: 1,
    });
  });

  it('restore never throws: undefined when the API is down', async () => {
    await kube.setDown(true);
    const r = reporter(world());
    await expect(r.restore()).resolves.toBeUndefined();
    expect(r.status()).toMatchObject({
      reachable: false,
      lastError: expect.stringContaining('ConnectionRefused') as unknown,
    });
  });

  it('a change in the lifecycle is written at once; battery and temperature wait for the renewal', async () => {
    const w = world();
    const r = reporter(w);
    r.start();
    await until(
      'the first round',
      () =>
        leaseAnnotation('farm-agent.io/idle-checks') !== undefined &&
        labelsOf()?.['farm-agent.io/phones'] === '2',
    );
    const n = kube.requests.length;
    w.slots[0] = { ...(w.slots[0] as SnapshotSlot), batteryPercent: 79, temperatureC: 33 };
    r.changed();
    // Past the change round (5 s after the first), short of the next renewal (10 s).
    await run(6_000);
    expect(writesSince(n)).toEqual([]);
    w.lifecycle['usb-1-1'] = { idleChecks: 1, asleep: false };
    r.changed();
    await until(
      'the count',
      () => leaseAnnotation('farm-agent.io/idle-checks') === '{"usb-1-1":1,"usb-1-2":0}',
      // After the 1 s debounce, not at the renewal 3 s later.
      1_000,
    );
    // The battery rode along with the lifecycle write.
    expect(leaseAnnotation('farm-agent.io/inventory')).toContain('"battery":79');
    expect(writesSince(n).map((q) => q.method)).toEqual(['PUT']);
  });
});

describe('ClusterReporter: labels', () => {
  it('writes the labels once, then only when they change; a burst of changes is one patch', async () => {
    const w = world();
    const r = reporter(w);
    r.start();
    await until('labels', () => labelsOf()?.['farm-agent.io/phones'] === '2');
    expect(labelsOf()).toEqual({
      'kubernetes.io/hostname': 'pi-1',
      'farm-agent.io/phones': '2',
      'farm-agent.io/device-types': 'sargo',
      'farm-agent.io/awake': 'true',
    });
    // Renewals and a Node poll later, still the one patch.
    await run(40_000);
    const patches = (): RecordedRequest[] =>
      kube.requests.filter((q) => q.method === 'PATCH' && !q.path.endsWith('/status'));
    expect(patches()).toHaveLength(1);
    expect(patches()[0]?.contentType).toBe('application/merge-patch+json');

    // Ten slot changes within 100 ms, inside the 1 s debounce: one patch, with the final state.
    const n = kube.requests.length;
    for (let i = 0; i < 10; i++) {
      w.slots[1] = slot(
        'usb-1-2',
        i % 2 === 0 ? 'missing' : 'ready',
        i === 9 ? 'walleye' : 'sargo',
      );
      r.changed();
      await run(10);
    }
    await until('new labels', () => labelsOf()?.['farm-agent.io/device-types'] === 'sargo.walleye');
    await run(60_000);
    expect(
      kube.requests.slice(n).filter((q) => q.method === 'PATCH' && !q.path.endsWith('/status')),
    ).toHaveLength(1);
  });

  it('re-applies labels someone removed, once it reads the Node again', async () => {
    const r = reporter(world());
    r.start();
    await until('labels', () => labelsOf()?.['farm-agent.io/phones'] === '2');
    kube.put('nodes', { metadata: { name: 'pi-1', labels: {} } });
    // At the next Node poll (30 s).
    await until('labels back', () => labelsOf()?.['farm-agent.io/phones'] === '2', 30_000);
  });
});

describe('ClusterReporter: events', () => {
  it('creates events.k8s.io Events regarding the Node in default; repeats fold into a series', async () => {
    const r = reporter(world());
    r.start();
    r.event({ type: 'Warning', reason: 'Missing', note: 'adb lost the phone', slot: 'usb-1-1' });
    for (let i = 0; i < 5; i++) {
      r.event({ type: 'Warning', reason: 'Missing', note: `lost again ${i}`, slot: 'usb-1-1' });
    }
    r.event({ type: 'Normal', reason: 'Slept', note: 'idle 4 checks', slot: 'usb-1-2' });
    // The series is written when the 5 minute dedupe window closes.
    await until('the summary', () => eventsCreated().length === 3, 5 * 60_000);
    const [missing, slept, series] = eventsCreated();
    expect(missing).toMatchObject({
      type: 'Warning',
      reason: 'Missing',
      action: 'Missing',
      note: 'usb-1-1: adb lost the phone',
      reportingController: 'farm-agent.io/farm-agent',
      reportingInstance: 'farm-agent-abcde',
      regarding: { apiVersion: 'v1', kind: 'Node', name: 'pi-1' },
    });
    expect(missing?.eventTime).toMatch(MICRO_TIME);
    expect(slept).toMatchObject({ reason: 'Slept', note: 'usb-1-2: idle 4 checks' });
    expect(series).toMatchObject({
      reason: 'Missing',
      note: 'usb-1-1: lost again 4',
      series: { count: 6 },
    });
    expect((series?.series as { lastObservedTime: string }).lastObservedTime).toMatch(MICRO_TIME);
    expect(
      kube.requests
        .filter((q) => q.path.endsWith('/events'))
        .every((q) => q.path.includes('/namespaces/default/')),
    ).toBe(true);
    await run(10 * 60_000);
    expect(eventsCreated()).toHaveLength(3);
  });

  it('keeps at most maxPendingEvents while the API is away, dropping the oldest', async () => {
    await kube.setDown(true);
    const r = reporter(world(), { maxPendingEvents: 3 });
    r.start();
    for (let i = 0; i < 5; i++)
      r.event({ type: 'Normal', reason: 'Woke', note: `n${i}`, slot: `s${i}` });
    expect(r.status().pendingEvents).toBe(3);
    await kube.setDown(false);
    await until('events', () => eventsCreated().length === 3);
    expect(eventsCreated().map((e) => e.note)).toEqual(['s2: n2', 's3: n3', 's4: n4']);
    expect(await registry.getSingleMetricAsString('farm_kube_events_dropped_total')).toContain(
      'farm_kube_events_dropped_total{cause="queue-full"} 2',
    );
  });
});

describe('ClusterReporter: operator overrides', () => {
  it('delivers overrides read from the Node only when they change', async () => {
    const r = reporter(world());
    const seen: OperatorOverrides[] = [];
    r.onOverrides((o) => seen.push(o));
    r.start();
    await until('first read', () => seen.length === 1);
    expect(seen[0]).toEqual({ node: {}, slots: {} });
    kube.put('nodes', {
      metadata: {
        name: 'pi-1',
        labels: labelsOf(),
        annotations: {
          'farm-agent.io/quarantine.usb-1-2': 'cracked screen',
          'farm-agent.io/maintenance': '',
          'farm-agent.io/hold-awake': 'usb-1-1',
        },
      },
    });
    expect(r.heldAwake('usb-1-1')).toBe(false);
    await until('the change', () => seen.length === 2, 30_000);
    // The farm gate's hot standby arrives with the same read.
    expect(r.heldAwake('usb-1-1')).toBe(true);
    expect(r.heldAwake('usb-1-2')).toBe(false);
    expect(seen[1]).toEqual({
      node: { maintenance: 'maintenance set by an operator on the Node' },
      slots: { 'usb-1-2': { quarantine: 'cracked screen' } },
    });
    expect(r.status().overridesAgeSeconds).toBe(0);
    await run(5 * 60_000); // ten more polls, nothing new
    expect(seen).toHaveLength(2);
    expect(r.status().overridesAgeSeconds).toBe(0);
  });

  it('setOverride writes and removes the annotation and delivers the result', async () => {
    const r = reporter(world());
    const seen: OperatorOverrides[] = [];
    r.onOverrides((o) => seen.push(o));
    await r.setOverride('maintenance', 'usb-1-1', 'replacing the cable');
    expect(kube.get('nodes', 'pi-1')?.metadata?.annotations).toEqual({
      'farm-agent.io/maintenance.usb-1-1': 'replacing the cable',
    });
    expect(seen.at(-1)).toEqual({
      node: {},
      slots: { 'usb-1-1': { maintenance: 'replacing the cable' } },
    });
    await r.setOverride('maintenance', 'usb-1-1', undefined);
    expect(kube.get('nodes', 'pi-1')?.metadata?.annotations).toEqual({});
    expect(seen.at(-1)).toEqual({ node: {}, slots: {} });
    await expect(r.setOverride('quarantine', 'Bad Name', 'x')).rejects.toThrow(/not a slot name/);
  });

  it('setOverride rejects clearly when the API is unreachable; the last overrides are kept', async () => {
    const r = reporter(world());
    const seen: OperatorOverrides[] = [];
    r.onOverrides((o) => seen.push(o));
    await r.setOverride('quarantine', undefined, 'flooded rack');
    await kube.setDown(true);
    await expect(r.setOverride('quarantine', undefined, undefined)).rejects.toThrow(
      /cannot clear quarantine on the node: the Kubernetes API is unreachable: ConnectionRefused/,
    );
    r.start();
    await run(5 * 60_000);
    expect(seen.at(-1)).toEqual({ node: { quarantine: 'flooded rack' }, slots: {} });
    expect(r.status().reachable).toBe(false);
  });
});

describe('ClusterReporter: resilience', () => {
  it('API down for a while: unreachable, no exceptions, then converges', async () => {
    const w = world();
    const r = reporter(w);
    r.start();
    await until('labels', () => labelsOf()?.['farm-agent.io/phones'] === '2');
    await kube.setDown(true);
    w.slots = [slot('usb-1-1', 'asleep')];
    w.lifecycle = { 'usb-1-1': { idleChecks: 0, asleep: true } };
    r.changed();
    r.event({ type: 'Normal', reason: 'Slept', note: 'idle', slot: 'usb-1-1' });
    await until('unreachable', () => !r.status().reachable);
    await run(5 * 60_000);
    expect(r.status()).toMatchObject({ reachable: false, pendingEvents: 1 });
    expect(r.status().lastError).toMatch(/ConnectionRefused/);
    expect(await registry.getSingleMetricAsString('farm_kube_reachable')).toContain(
      'farm_kube_reachable 0',
    );

    await kube.setDown(false);
    // Within the longest backoff (30 s) and a round.
    await until(
      'converged',
      () => labelsOf()?.['farm-agent.io/awake'] === 'false' && eventsCreated().length === 1,
      31_000,
    );
    expect(labelsOf()).toMatchObject({ 'farm-agent.io/phones': '1' });
    await until(
      'lease',
      () => leaseAnnotation('farm-agent.io/lifecycle') === '{"usb-1-1":"asleep"}',
    );
    await until('the queue emptied', () => r.status().pendingEvents === 0);
    expect(r.status().reachable).toBe(true);
    expect(await registry.getSingleMetricAsString('farm_kube_reachable')).toContain(
      'farm_kube_reachable 1',
    );
  });

  it.each([409, 500, 503, 'reset', 'stall'] as const)('recovers from %s', async (fault) => {
    api.close();
    api = apiFor(kube, 200);
    const r = reporter(world());
    r.start();
    await until('the Lease', () => kube.get('leases', 'farm-agent-pi-1', 'farm') !== undefined);
    const n = kube.requests.length;
    kube.failNext(2, fault);
    r.event({ type: 'Normal', reason: 'Woke', note: 'woken' });
    await until(
      'two renewals after the fault',
      () =>
        kube.requests.slice(n + 2).filter((q) => q.method === 'PUT' && q.status === 200).length >=
        2,
    );
    await until('the event', () => eventsCreated().length === 1);
    expect(r.status().reachable).toBe(true);
    const metric = await registry.getSingleMetricAsString('farm_kube_requests_total');
    const code =
      typeof fault === 'number' ? String(fault) : fault === 'reset' ? 'ConnectionReset' : 'Timeout';
    expect(metric).toMatch(new RegExp(`code="${code}"`));
  });

  it('a part the API refuses for good does not starve the others (no such Node)', async () => {
    const r = reporter(world(), { node: 'pi-2' });
    r.start();
    r.event({ type: 'Normal', reason: 'Attached', note: 'phone attached' });
    const renewals = (): number =>
      kube.requests.filter(
        (q) => q.path.endsWith('/leases/farm-agent-pi-2') && q.method === 'PUT' && q.status === 200,
      ).length;
    await until('renewals and the event', () => renewals() >= 2 && eventsCreated().length === 1);
    expect(kube.requests.some((q) => q.path === '/api/v1/nodes/pi-2' && q.status === 404)).toBe(
      true,
    );
    expect(r.status()).toMatchObject({
      reachable: true,
      lastError: expect.stringContaining('NotFound') as unknown,
    });
  });

  it('429 waits for Retry-After before trying again', async () => {
    // A backoff far shorter than the Retry-After (1 s) the fake sends.
    const r = reporter(world(), { backoff: { initialMs: 20, maxMs: 100 } });
    r.start();
    await until('the Lease', () => kube.get('leases', 'farm-agent-pi-1', 'farm') !== undefined);
    kube.failNext(1, 429);
    await until('the 429', () => kube.requests.some((q) => q.status === 429));
    const n = kube.requests.length;
    await run(999);
    expect(kube.requests.length).toBe(n);
    await run(1);
    await asleep();
    expect(kube.requests.at(n)).toMatchObject({ method: 'PUT', status: 200 });
  });

  it("keeps the FarmPhonesReady condition beside the kubelet's, as node-problem-detector does", async () => {
    kube.put('nodes', {
      metadata: { name: 'pi-1', labels: { 'kubernetes.io/hostname': 'pi-1' } },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
    });
    const w = world();
    const r = reporter(w);
    r.start();
    const conditions = () =>
      (kube.get('nodes', 'pi-1')?.['status'] as { conditions: Record<string, string>[] })
        .conditions;
    const phones = () => conditions().find((c) => c['type'] === 'FarmPhonesReady');
    await until('the condition', () => phones() !== undefined);
    expect(phones()).toMatchObject({
      status: 'True',
      reason: 'PhonesReady',
      message: '2 of 2 phones serving tasks',
    });
    const since = phones()?.['lastTransitionTime'];
    expect(since).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    await run(60_000);
    w.slots[1] = { ...slot('usb-1-2', 'missing'), diagnosis: 'not on USB (cable, hub or power)' };
    r.changed();
    await until('the condition False', () => phones()?.['status'] === 'False');
    expect(phones()).toMatchObject({
      reason: 'PhonesNotReady',
      message: '1 of 2 phones serving tasks; usb-1-2: not on USB (cable, hub or power)',
    });
    expect(phones()?.['lastTransitionTime']).not.toBe(since);
    // The kubelet's condition is untouched: a strategic merge patch of nodes/status, by type.
    expect(conditions().map((c) => c['type'])).toEqual(['Ready', 'FarmPhonesReady']);
    const patch = kube.requests.findLast((q) => q.path === NODE_STATUS_PATH);
    expect(patch?.contentType).toBe('application/strategic-merge-patch+json');
  });

  it('steady state: one Lease renewal per period and the condition heartbeat, nothing else', async () => {
    const r = reporter(world());
    r.start();
    await until('labels', () => labelsOf()?.['farm-agent.io/phones'] === '2');
    const steady = kube.requests.length;
    await run(10 * 60_000);
    const writes = writesSince(steady);
    const heartbeats = writes.filter((q) => q.method === 'PATCH' && q.path === NODE_STATUS_PATH);
    expect(heartbeats).toHaveLength(2);
    expect(
      writes.filter(
        (q) => !(q.method === 'PUT' && q.path === LEASE_PATH) && !heartbeats.includes(q),
      ),
    ).toEqual([]);
    // Every 10 s, and the Node read every 30 s: exactly, on this clock.
    expect(writes).toHaveLength(60 + 2);
    expect(kube.requests.slice(steady).filter((q) => q.method === 'GET')).toHaveLength(20);
  });

  it('churn: at most one change round per 5 s, however often the slots change', async () => {
    const w = world();
    const r = reporter(w);
    r.start();
    await until('labels', () => labelsOf()?.['farm-agent.io/phones'] === '2');
    // A slot flapping every 0.7 s for two minutes (0.7 s does not divide the 5 s rounds, so
    // rounds see both states).
    const churn = kube.requests.length;
    for (let flips = 0; flips * 700 < 120_000; flips++) {
      w.slots[1] = slot('usb-1-2', flips % 2 === 0 ? 'missing' : 'ready');
      w.lifecycle['usb-1-2'] = { idleChecks: flips % 4, asleep: false };
      r.changed();
      await run(700);
    }
    const writes = writesSince(churn);
    const patches = writes.filter((q) => q.method === 'PATCH').length;
    const puts = writes.filter((q) => q.method === 'PUT').length;
    // 120 s: at most 25 change rounds, each one label patch, one condition patch and one Lease
    // write at most, and the Lease renewed every 10 s besides (13 at most).
    expect(patches).toBeGreaterThan(0);
    expect(patches).toBeLessThanOrEqual(2 * 25);
    expect(puts).toBeLessThanOrEqual(25 + 13);
    expect(writes.length).toBe(patches + puts);
  });
});
