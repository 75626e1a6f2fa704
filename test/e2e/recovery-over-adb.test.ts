/**
 * The recovery ladder over the real adb layer: a real adb server (Debian's adb 29), fake
 * phones on TCP with faults, AdbTracker, AdbDeviceIO, a real SlotManager, the real
 * `host:reconnect-offline` and `reboot:` requests, the port power owner over the strict
 * uhubctl fake (phone N behind port N of hub 1-1), and a ClusterReporter on the strict
 * fake Kubernetes API for the Events and the FarmPhonesReady condition. Times are real
 * but short.
 */
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { ClusterReporter } from '../../agent/src/cluster/cluster-reporter.js';
import type { ReportedEvent } from '../../agent/src/cluster/event-dedupe.js';
import { KubeApi } from '../../agent/src/cluster/kube-client.js';
import { loadKubeConfig } from '../../agent/src/cluster/kube-config.js';
import { clusterSnapshot } from '../../agent/src/cluster/snapshot.js';
import { PortPower } from '../../agent/src/power/port-power.js';
import { adbRecoveryActions } from '../../agent/src/recovery/recovery-actions.js';
import { RecoveryLadder } from '../../agent/src/recovery/recovery-ladder.js';
import { startAdbPhones } from '../rigs/adb-slots.js';
import type { FakePhone, PhoneScript } from '../rigs/fake-adbd/index.js';
import { startFakeKube } from '../rigs/fake-kube/index.js';
import { writeKubeconfig } from '../rigs/fake-kube/kubeconfig.js';
import { FakeUhubctl } from '../rigs/fake-uhubctl.js';
import { waitFor } from '../rigs/test-bots.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface RigOptions {
  budget?: { failures: number; windowMs: number; coolOffMs: number };
}

async function startRig(scripts: PhoneScript[], options: RigOptions = {}) {
  const { dir, server, phones, serials, io, manager, logger, registry } = await startAdbPhones(
    'recovery-over-adb-',
    scripts,
    (undo) => cleanups.push(undo),
    { timeouts: { commandMs: 500, getpropMs: 1000 } },
  );
  // Cutting port N takes phone N off the bus; powering it again boots it afresh (its adbd
  // answers again) and it comes back, as a USB phone re-enumerates.
  const hub = new FakeUhubctl({ '1-1': 4 }, async (_hub, port, on) => {
    const phone = phones[port - 1];
    if (phone === undefined) return;
    if (!on) {
      await server.disconnect(phone.serial);
      phone.mode = 'authorized';
    } else {
      await server.connect(phone.serial);
    }
  });
  const power = new PortPower({ run: hub.run, timeoutMs: 5000, logger });

  const kube = await startFakeKube();
  cleanups.push(() => kube.close());
  kube.put('nodes', {
    metadata: { name: 'pi-1' },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
  });
  const loaded = loadKubeConfig({ kubeconfigPath: writeKubeconfig(kube, dir), env: {} });
  if (loaded.connection === undefined) throw new Error(loaded.reason);
  const reporter = new ClusterReporter({
    api: new KubeApi(loaded.connection, { timeoutMs: 2000 }),
    node: 'pi-1',
    namespace: 'farm',
    podName: 'farm-agent-abcde',
    snapshot: () => clusterSnapshot('pi-1', manager.slots(), {}, undefined),
    logger,
    registry: new Registry(),
    renewIntervalMs: 1000,
    changeDebounceMs: 20,
    minChangeIntervalMs: 50,
  });
  reporter.start();
  cleanups.push(() => reporter.stop());
  manager.onSlotChanged(() => reporter.changed());

  // Every Event the ladder reports; the API gets repeats folded into series (event-dedupe.ts).
  const reported: ReportedEvent[] = [];
  const ladder = new RecoveryLadder({
    slots: manager,
    actions: adbRecoveryActions({ port: server.port }, io),
    power,
    powerTarget: (slot) => ({ hub: '1-1', port: serials.indexOf(slot.key) + 1 }),
    taskRunning: () => false,
    readUsb: async () => undefined,
    settings: {
      // Longer than adb's own reconnect of a dropped phone (~250 ms), which meets the wedge.
      graceMs: 1000,
      bootGraceMs: 3000,
      rungTimeoutMs: 4000,
      cycleOffMs: 1000,
      checkIntervalMs: 100,
      commandTimeoutMs: 2000,
      budget: options.budget ?? { failures: 10, windowMs: 60_000, coolOffMs: 60_000 },
    },
    logger,
    registry,
    event: (event) => {
      reported.push(event);
      reporter.event(event);
    },
  });
  cleanups.push(() => ladder.stop());

  for (const serial of serials) await server.connect(serial);
  await waitFor('the phones ready', () =>
    serials.every((s) => manager.slot(s)?.health.state === 'ready'),
  );
  ladder.start();
  const steps = (serial: string) => reported.filter((e) => e.slot === manager.slot(serial)?.name);
  /** The Events the fake API received, by reason. */
  const created = () =>
    kube.requests
      .filter((q) => q.method === 'POST' && q.path.endsWith('/events') && q.status === 201)
      .map((q) => (q.body as { reason: string }).reason);
  const condition = () =>
    (
      kube.get('nodes', 'pi-1')?.['status'] as {
        conditions: { type: string; status: string; message: string }[];
      }
    ).conditions.find((c) => c.type === 'FarmPhonesReady');
  return { server, phones, serials, manager, hub, kube, steps, created, condition };
}

/** Takes a phone's adb transport down the way a hung adbd does: offline until reconnected. */
function wedge(phone: FakePhone): void {
  phone.mode = 'wedged';
  phone.dropConnection();
}

it('takes each phone up the ladder in order, stopping at the first step that works', async () => {
  // The hung phone is back on its port before adb's first reconnect (~250 ms): a TCP phone
  // away longer waits for adb's 10 s retry, which a USB phone never does.
  const r = await startRig([{}, { rebootAwayMs: 100 }, {}]);
  const [wedged, hung, dead] = r.phones as [FakePhone, FakePhone, FakePhone];
  // Hung: its dumpsys never answers until it has rebooted.
  hung.hang = (command) => command === 'dumpsys battery' && hung.reboots === 0;
  // Dead to adb until its power is cut: reconnecting does not help.
  dead.mode = 'offline';
  dead.dropConnection();
  wedge(wedged);
  const name = r.manager.slot(wedged.serial)?.name ?? '?';
  await waitFor('the condition to name a phone that is down', () =>
    r.condition()?.message.includes(name),
  );
  expect(r.condition()?.status).toBe('False');
  await waitFor(
    'all three recovered',
    () => r.serials.every((s) => r.steps(s).some((e) => e.reason === 'PhoneRecovered')),
    30_000,
  );
  expect(r.serials.map((s) => r.manager.slot(s)?.health.state)).toEqual([
    'ready',
    'ready',
    'ready',
  ]);
  // The wedged phone: `adb reconnect offline` (and adb connect) was enough.
  expect(r.steps(wedged.serial).map((e) => e.reason)).toEqual(['RecoveryStep', 'PhoneRecovered']);
  expect(r.steps(wedged.serial)[1]?.note).toContain('back after adb reconnect offline');
  expect(wedged.reboots).toBe(0);
  // The hung phone: rebooted over adb, once.
  expect(hung.reboots).toBe(1);
  expect(r.steps(hung.serial).at(-1)?.note).toContain('back after adb reboot');
  // The dead phone: reconnecting did nothing, the power cycle of its port did.
  expect(r.steps(dead.serial).map((e) => e.note)).toEqual([
    expect.stringContaining('trying adb reconnect offline (step 1 of 2)'),
    expect.stringContaining('trying power cycle of its USB port (step 2 of 2)'),
    expect.stringContaining('back after power cycle of its USB port'),
  ]);
  expect(r.hub.calls.filter((c) => c.includes('cycle'))).toEqual([
    ['-l', '1-1', '-p', '3', '-a', 'cycle', '-d', '1'],
  ]);
  // On the fake API: the Events (repeats of a reason folded into series) and the condition.
  await waitFor('the Events created', () =>
    ['RecoveryStep', 'PhoneRecovered'].every((reason) => r.created().includes(reason)),
  );
  await waitFor('the condition True again', () => r.condition()?.status === 'True');
  expect(r.condition()?.message).toBe('3 of 3 phones serving tasks');
}, 60_000);

it('stops a flapping phone with its budget: out of service for the cool-off, then tried again', async () => {
  const r = await startRig([{}], { budget: { failures: 3, windowMs: 60_000, coolOffMs: 4000 } });
  const [phone] = r.phones as [FakePhone];
  const serial = phone.serial;
  for (let flap = 1; flap <= 2; flap++) {
    wedge(phone);
    await waitFor(`flap ${flap} seen`, () => r.manager.slot(serial)?.adbState === 'offline');
    await waitFor(
      `flap ${flap} recovered`,
      () => r.manager.slot(serial)?.health.state === 'ready',
      15_000,
    );
  }
  wedge(phone);
  await waitFor('the budget spent', () =>
    r.steps(serial).some((e) => e.reason === 'RecoveryBudgetSpent'),
  );
  expect(r.manager.slot(serial)?.health).toMatchObject({
    state: 'recovering',
    diagnosis: 'failing too often',
    swarming: { ready: false },
  });
  const recovered = () => r.steps(serial).filter((e) => e.reason === 'PhoneRecovered').length;
  expect(recovered()).toBe(2);
  // Sitting out: still offline, nothing tried. Then tried again and back.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  expect(r.manager.slot(serial)?.adbState).toBe('offline');
  await waitFor('the Warning on the fake API', () => r.created().includes('RecoveryBudgetSpent'));
  await waitFor('tried again after the cool-off', () => recovered() === 3, 20_000);
  expect(r.manager.slot(serial)?.health.state).toBe('ready');
}, 60_000);
