/**
 * (c) The Kubernetes API gone for minutes (the fake API stops listening: connection refused)
 * while two bots keep polling their hooks and a phone is unplugged; then the API returns.
 * Hooks must be served throughout, and the cluster's view (the Lease inventory) must converge
 * on what the agent sees.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostRequest } from '../../test/rigs/adb-server.js';
import { startFakePhone } from '../../test/rigs/fake-adbd/index.js';
import { fdSample, pollUntil, SOAK_QUICK, sleep } from '../lib.js';
import { heapAfterGc, leaseSlots, startAgent, startCluster, waitForSlots } from '../rig.js';
import { getStatus, send, Tally } from './hook-client.js';
import type { Check } from './report.js';

const SECTION = 'c API down';
const DOWN_MS = SOAK_QUICK ? 15_000 : 150_000;
const POLL_EVERY_MS = 1000;
/** The reporter's retry backoff is capped at 30 s: it must be back within one retry of that. */
const MAX_CONVERGE_S = 30;

export async function kubeOutage(): Promise<Check[]> {
  const cluster = await startCluster();
  const dir = await mkdtemp(join(tmpdir(), 'soak-kube-'));
  const heapFile = join(dir, 'heap.json');
  const phones = await Promise.all(
    [0, 1].map(() => startFakePhone({ thermal: [], battery: { temperature: 280 } })),
  );
  const agent = await startAgent(
    {
      FARM_KUBECONFIG: cluster.kubeconfig,
      FARM_ADB_TCP_DEVICES: phones.map((p) => p.serial).join(','),
    },
    heapFile,
  );
  const pid = agent.child.pid ?? 0;
  let polling: NodeJS.Timeout | undefined;
  try {
    const slots = await waitForSlots(agent, 2, 'ready', 60_000);
    await pollUntil(
      'the Lease with both phones ready',
      () =>
        leaseSlots(cluster)?.filter((s) => s.state === 'ready').length === 2 ? true : undefined,
      30_000,
      100,
    );
    // The bots' polls, as the shim makes them, for the whole outage.
    const hooks = new Tally();
    polling = setInterval(() => {
      for (const slot of slots) {
        const headers = { 'content-type': 'application/json', 'x-farm-bot-id': slot.botId };
        for (const hook of ['get_state', 'get_dimensions']) {
          void send(agent.hookUrl, { path: `/${hook}`, headers, body: '{}' }, 5000).then((a) =>
            hooks.add(hook, a.status),
          );
        }
      }
    }, POLL_EVERY_MS);
    await sleep(5000);
    const heap0 = await heapAfterGc(agent, heapFile);
    const fd0 = fdSample(pid);

    const down = Date.now();
    await cluster.kube.setDown(true);
    const unreachable = await pollUntil(
      '/status cluster unreachable',
      async () => ((await getStatus(agent.httpUrl)).cluster.reachable ? undefined : true),
      DOWN_MS,
      100,
    ).catch(() => undefined);
    await sleep(DOWN_MS / 2 - (Date.now() - down));
    const unplugged = phones[0];
    if (!unplugged) throw new Error('no phone');
    await hostRequest(agent.adbPort, `host:disconnect:${unplugged.serial}`);
    await sleep(DOWN_MS - (Date.now() - down));
    const hooksWhileDown = { ok: hooks.count((k) => k === '200'), total: hooks.total };

    const up = Date.now();
    await cluster.kube.setDown(false);
    // Converged: the Lease renewed after the return, listing every slot in the state /status shows.
    const converged = await pollUntil(
      'the Lease converges on /status',
      async () => {
        const lease = cluster.kube.get('leases', cluster.leaseName, 'farm');
        const renewed = Date.parse(
          String((lease?.spec as { renewTime?: string } | undefined)?.renewTime),
        );
        const seen = (await getStatus(agent.httpUrl)).slots.map((s) => `${s.serial}=${s.state}`);
        const told = (leaseSlots(cluster) ?? []).map(
          (s) => `${slots.find((x) => x.name === s.name)?.serial}=${s.state}`,
        );
        return renewed >= up - 1000 && seen.sort().join() === told.sort().join() ? true : undefined;
      },
      120_000,
      100,
    ).catch(() => undefined);
    // Read as before the outage: settled, with the bots still polling.
    await sleep(5000);
    const heap1 = await heapAfterGc(agent, heapFile);
    const fd1 = fdSample(pid);
    clearInterval(polling);
    polling = undefined;
    const alive = agent.child.exitCode === null && agent.child.signalCode === null;
    const mib = (x: number): number => x / 2 ** 20;
    return [
      {
        section: SECTION,
        figure: `hook calls not answered 200 while the API was down ${DOWN_MS / 1000} s`,
        value: hooksWhileDown.total - hooksWhileDown.ok,
        unit: `of ${hooksWhileDown.total}`,
        max: 0,
        note: `2 bots × get_state + get_dimensions every ${POLL_EVERY_MS / 1000} s; ${hooks.total} calls in all`,
      },
      {
        section: SECTION,
        figure: 'API down → /status says cluster unreachable',
        value: unreachable === undefined ? NaN : (unreachable.at - down) / 1000,
        unit: 's',
        note: 'the next Lease renewal fails (renew interval 10 s)',
      },
      {
        section: SECTION,
        figure: 'API back → Lease renewed and inventory = /status',
        value: converged === undefined ? NaN : (converged.at - up) / 1000,
        unit: 's',
        max: MAX_CONVERGE_S,
        note: `a phone unplugged ${DOWN_MS / 2000} s into the outage; ${cluster.kube.requests.filter((r) => r.at >= up && r.at <= (converged?.at ?? Infinity)).length} API requests until then`,
      },
      {
        section: SECTION,
        figure: 'agent alive at the end',
        value: alive ? 1 : 0,
        unit: 'yes',
        min: 1,
      },
      {
        section: SECTION,
        figure: 'open fds, growth over the outage',
        value: fd1.fds - fd0.fds,
        unit: 'fds',
        max: 5,
        note: `${fd0.fds} → ${fd1.fds} (sockets ${fd0.sockets} → ${fd1.sockets})`,
      },
      {
        section: SECTION,
        figure: 'RSS after GC, growth over the outage',
        value: mib(heap1.rss - heap0.rss),
        unit: 'MiB',
        max: 32,
        note: `${mib(heap0.rss).toFixed(0)} → ${mib(heap1.rss).toFixed(0)} MiB`,
      },
    ];
  } finally {
    if (polling) clearInterval(polling);
    await agent.stop();
    await Promise.all(phones.map((p) => p.close()));
    await cluster.kube.close();
    await rm(dir, { recursive: true, force: true });
  }
}
