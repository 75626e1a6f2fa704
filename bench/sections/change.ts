/**
 * 2. Change to report: a phone leaving adb, and a battery crossing the recovery threshold, to
 * the new state in /status, in the hooks and in the Lease on the fake API; beside adb's own
 * `host:track-devices` notification of the same event (drop) and the refresh that reads the
 * battery (battery).
 */
import type { AgentProcess } from '../../test/rigs/agent-process.js';
import { hostRequest } from '../../test/rigs/adb-server.js';
import { startFakePhone, type FakePhone } from '../../test/rigs/fake-adbd/index.js';
import { pollUntil, QUICK, sleep, summarise, trackDevices, type Row } from '../lib.js';
import {
  callHook,
  leaseSlots,
  startAgent,
  startCluster,
  statusSlots,
  waitForSlots,
  type Cluster,
} from '../rig.js';

const CYCLES = QUICK ? 2 : 6;
const REFRESH_MS = 1000;
/** The reporter writes a change after 1 s of quiet and at most one change round per 5 s. */
const BETWEEN_CHANGES_MS = 6000;
const TIMEOUT = 15_000;

interface Ctx {
  agent: AgentProcess;
  cluster: Cluster;
  phone: FakePhone;
  botId: string;
  name: string;
}

/** Milliseconds from t0 until each observer sees the slot leave (or return to) `ready`. */
async function observe(ctx: Ctx, t0: number, gone: boolean, hook: 'get_dimensions' | 'get_state') {
  const { agent, cluster, botId, name } = ctx;
  const differs = (state: string | undefined): boolean =>
    gone ? state !== undefined && state !== 'ready' : state === 'ready';
  const [status, inHook, lease] = await Promise.all([
    pollUntil(
      '/status',
      async () =>
        differs((await statusSlots(agent)).find((s) => s.botId === botId)?.state)
          ? true
          : undefined,
      TIMEOUT,
      5,
    ),
    pollUntil(
      hook,
      async () => {
        const answer = await callHook(agent, hook, botId, { id: [botId] });
        const flagged =
          hook === 'get_dimensions' ? 'quarantined' in answer : 'maintenance' in answer;
        return flagged === gone ? true : undefined;
      },
      TIMEOUT,
      5,
    ),
    pollUntil(
      `the Lease (${gone ? 'leaving' : 'back to'} ready)`,
      () => (differs(leaseSlots(cluster)?.find((s) => s.name === name)?.state) ? true : undefined),
      TIMEOUT,
      2,
    ),
  ]);
  return { status: status.at - t0, hook: inHook.at - t0, lease: lease.at - t0 };
}

async function dropCycle(ctx: Ctx) {
  const { agent, phone } = ctx;
  const tracker = await trackDevices(agent.adbPort);
  try {
    const t0 = Date.now();
    const seen = tracker.when((d) => !d.has(phone.serial), TIMEOUT);
    void hostRequest(agent.adbPort, `host:disconnect:${phone.serial}`).catch(() => undefined);
    const [adbAt, report] = await Promise.all([seen, observe(ctx, t0, true, 'get_dimensions')]);
    // Plugged back in; the next cycle starts from a reported `ready`.
    await hostRequest(agent.adbPort, `host:connect:${phone.serial}`);
    await observe(ctx, Date.now(), false, 'get_dimensions');
    return { adb: adbAt - t0, ...report };
  } finally {
    tracker.close();
  }
}

async function batteryCycle(ctx: Ctx, readAt: { at?: number }) {
  const { phone } = ctx;
  readAt.at = undefined;
  const t0 = Date.now();
  phone.state.battery.level = 20;
  const report = await observe(ctx, t0, true, 'get_state');
  const read = (readAt.at ?? NaN) - t0;
  phone.state.battery.level = 85;
  await observe(ctx, Date.now(), false, 'get_state');
  return { read, ...report };
}

export async function change(): Promise<Row[]> {
  const cluster = await startCluster();
  const readAt: { at?: number } = {};
  const phone = await startFakePhone({
    thermal: [],
    battery: { temperature: 280 },
    onShell: (command) => {
      if (command === 'dumpsys battery') readAt.at ??= Date.now();
      return undefined;
    },
  });
  const agent = await startAgent({
    FARM_KUBECONFIG: cluster.kubeconfig,
    FARM_ADB_TCP_DEVICES: phone.serial,
    FARM_DEVICE_REFRESH: `${REFRESH_MS}ms`,
  });
  try {
    const [slot] = await waitForSlots(agent, 1);
    if (!slot) throw new Error('no slot');
    const ctx: Ctx = { agent, cluster, phone, botId: slot.botId, name: slot.name };
    await pollUntil(
      'the Lease with the phone ready',
      () => (leaseSlots(cluster)?.[0]?.state === 'ready' ? true : undefined),
      TIMEOUT,
    );
    const drops = [];
    const batteries = [];
    for (let i = 0; i < CYCLES; i++) {
      await sleep(BETWEEN_CHANGES_MS);
      drops.push(await dropCycle(ctx));
      await sleep(BETWEEN_CHANGES_MS);
      batteries.push(await batteryCycle(ctx, readAt));
    }
    const rows: Row[] = [];
    const add = (figure: string, values: number[], floor: number[], floorLabel: string) => {
      const s = summarise(values);
      const f = summarise(floor);
      for (const p of ['p50', 'max'] as const) {
        rows.push({
          section: '2 change',
          figure: `${figure} ${p}`,
          value: s[p],
          unit: 'ms',
          floor: f[p],
          floorLabel,
          note: `n=${s.n}`,
        });
      }
    };
    const adb = drops.map((d) => d.adb);
    add(
      'adb disconnect → /status missing',
      drops.map((d) => d.status),
      adb,
      'track-devices',
    );
    add(
      'adb disconnect → get_dimensions quarantined',
      drops.map((d) => d.hook),
      adb,
      'track-devices',
    );
    add(
      'adb disconnect → Lease inventory',
      drops.map((d) => d.lease),
      adb,
      'track-devices',
    );
    const read = batteries.map((b) => b.read);
    const label = `battery read (refresh ${REFRESH_MS} ms)`;
    add(
      'battery 85→20% → /status recovering',
      batteries.map((b) => b.status),
      read,
      label,
    );
    add(
      'battery 85→20% → get_state maintenance',
      batteries.map((b) => b.hook),
      read,
      label,
    );
    add(
      'battery 85→20% → Lease inventory',
      batteries.map((b) => b.lease),
      read,
      label,
    );
    return rows;
  } catch (e) {
    console.error(JSON.stringify(leaseSlots(cluster)));
    console.error(
      cluster.kube.requests.map((r) => `${r.at} ${r.method} ${r.path} ${r.status}`).join('\n'),
    );
    throw e;
  } finally {
    await agent.stop();
    await phone.close();
    await cluster.kube.close();
  }
}
