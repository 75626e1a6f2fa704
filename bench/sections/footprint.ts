/**
 * 3. Footprint: RSS and CPU of the agent at steady state with 1, 4 and 16 phones, beside a bare
 * Node process keeping an interval; heap after an hour-equivalent of churn.
 * 4. API load: requests on the fake API per node per hour, steady and under churn.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentProcess } from '../../test/rigs/agent-process.js';
import { hostRequest } from '../../test/rigs/adb-server.js';
import { startFakePhone, type FakePhone } from '../../test/rigs/fake-adbd/index.js';
import type { FakeKube } from '../../test/rigs/fake-kube/index.js';
import { cpuPercent, procSample, QUICK, sleep, type Row } from '../lib.js';
import { callHook, heapAfterGc, startAgent, startCluster, waitForSlots } from '../rig.js';

const SETTLE_MS = QUICK ? 3000 : 10_000;
const WINDOW_MS = QUICK ? 10_000 : 40_000;
/** 120 refreshes per phone at 1 s: an hour of the default 30 s refresh. */
const CHURN_MS = QUICK ? 20_000 : 120_000;
const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function apiCounts(kube: FakeKube, from: number, to: number) {
  const inWindow = kube.requests.filter((r) => r.at >= from && r.at < to);
  const writes = inWindow.filter((r) => WRITE.has(r.method)).length;
  return { writes, reads: inWindow.length - writes };
}

function startPhones(count: number): Promise<FakePhone[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      startFakePhone({
        thermal: [],
        battery: { temperature: 280 },
        rebootAwayMs: 300,
        bootDelayMs: 300,
      }),
    ),
  );
}

async function steady(phones: number, floorPid: number): Promise<Row[]> {
  const cluster = await startCluster();
  const fakes = await startPhones(phones);
  let agent: AgentProcess | undefined;
  try {
    // Every interval at its default: refresh 30 s, Lease 10 s, Node poll 30 s.
    agent = await startAgent({
      FARM_KUBECONFIG: cluster.kubeconfig,
      FARM_ADB_TCP_DEVICES: fakes.map((p) => p.serial).join(','),
    });
    const pid = agent.child.pid ?? 0;
    await waitForSlots(agent, phones, 'ready', 90_000);
    await sleep(SETTLE_MS);
    const a = procSample(pid);
    const fa = procSample(floorPid);
    const adbA = procSample(
      Number(
        ((await agent.getJson('/status')) as { devices: { adbServer: { pid: number } } }).devices
          .adbServer.pid,
      ),
    );
    await sleep(WINDOW_MS);
    const b = procSample(pid);
    const fb = procSample(floorPid);
    const adbPid = Number(
      ((await agent.getJson('/status')) as { devices: { adbServer: { pid: number } } }).devices
        .adbServer.pid,
    );
    const adbB = procSample(adbPid);
    const api = apiCounts(cluster.kube, a.at, b.at);
    const perHour = 3_600_000 / (b.at - a.at);
    const label = `${phones} phone${phones === 1 ? '' : 's'}`;
    const rows: Row[] = [
      {
        section: '3 footprint',
        figure: `agent RSS, ${label}`,
        value: b.rssBytes / 2 ** 20,
        unit: 'MiB',
        floor: fb.rssBytes / 2 ** 20,
        floorLabel: 'bare node',
        note: `adb server RSS ${(adbB.rssBytes / 2 ** 20).toFixed(1)} MiB`,
      },
      {
        section: '3 footprint',
        figure: `agent CPU, ${label} (defaults, ${WINDOW_MS / 1000} s window)`,
        value: cpuPercent(a, b),
        unit: '% core',
        floor: cpuPercent(fa, fb),
        floorLabel: 'bare node',
        note: `adb server ${cpuPercent(adbA, adbB).toFixed(2)} % core`,
      },
      {
        section: '4 API load',
        figure: `steady, ${label}: writes per hour`,
        value: api.writes * perHour,
        unit: '/h',
        note: `${api.writes} in ${Math.round((b.at - a.at) / 1000)} s, Lease renew 10 s (default)`,
      },
      {
        section: '4 API load',
        figure: `steady, ${label}: reads per hour`,
        value: api.reads * perHour,
        unit: '/h',
        note: `${api.reads} in ${Math.round((b.at - a.at) / 1000)} s, Node poll 30 s (default)`,
      },
    ];
    if (phones === 4) {
      const rps = ((api.writes + api.reads) * perHour * 1000) / 3600;
      rows.push({
        section: '4 API load',
        figure: '1,000 nodes steady (4 phones each) on one API server',
        value: rps,
        unit: 'req/s',
      });
    }
    return rows;
  } finally {
    await agent?.stop();
    await Promise.all(fakes.map((p) => p.close()));
    await cluster.kube.close();
  }
}

async function churn(): Promise<Row[]> {
  const cluster = await startCluster();
  const fakes = await startPhones(4);
  const dir = await mkdtemp(join(tmpdir(), 'bench-heap-'));
  const heapFile = join(dir, 'heap.json');
  let agent: AgentProcess | undefined;
  try {
    agent = await startAgent(
      {
        FARM_KUBECONFIG: cluster.kubeconfig,
        FARM_ADB_TCP_DEVICES: fakes.map((p) => p.serial).join(','),
        FARM_DEVICE_REFRESH: '1s',
      },
      heapFile,
    );
    const slots = await waitForSlots(agent, 4, 'ready', 90_000);
    await sleep(SETTLE_MS);
    const live = agent;
    const heaps = [await heapAfterGc(live, heapFile)];
    const t0 = Date.now();
    let events = 0;
    let hookCalls = 0;
    const stopAt = t0 + CHURN_MS;
    // The bots' polls: each bot asks for its state and dimensions every second.
    const polls = setInterval(() => {
      for (const slot of slots) {
        hookCalls += 2;
        void callHook(live, 'get_state', slot.botId).catch(() => undefined);
        void callHook(live, 'get_dimensions', slot.botId, { id: [slot.botId] }).catch(
          () => undefined,
        );
      }
    }, 1000);
    try {
      for (let part = 1; part <= 3; part++) {
        while (Date.now() < t0 + (CHURN_MS * part) / 3) {
          const phone = fakes[events % fakes.length] as FakePhone;
          switch (Math.floor(events / fakes.length) % 3) {
            case 0: // unplugged and plugged back
              await hostRequest(live.adbPort, `host:disconnect:${phone.serial}`).catch(
                () => undefined,
              );
              await sleep(300);
              await hostRequest(live.adbPort, `host:connect:${phone.serial}`).catch(
                () => undefined,
              );
              break;
            case 1: // cable glitch: adb reconnects by itself
              phone.dropConnection();
              break;
            default: // reboot: away 300 ms, boot completes 300 ms later
              await phone.reboot();
              await hostRequest(live.adbPort, `host:connect:${phone.serial}`).catch(
                () => undefined,
              );
          }
          events += 1;
          await sleep(Math.max(0, 1000 - 300));
        }
        heaps.push(await heapAfterGc(live, heapFile));
      }
    } finally {
      clearInterval(polls);
    }
    const t1 = Math.min(Date.now(), stopAt + 5000);
    const api = apiCounts(cluster.kube, t0, t1);
    const perHour = 3_600_000 / (t1 - t0);
    const mib = (x: number): number => x / 2 ** 20;
    const [first] = heaps;
    const last = heaps.at(-1);
    if (!first || !last) throw new Error('no heap readings');
    return [
      {
        section: '3 footprint',
        figure: `heap used after GC, after ${events} churn events / 1 h of refreshes (4 phones)`,
        value: mib(last.heapUsed),
        unit: 'MiB',
        floor: mib(first.heapUsed),
        floorLabel: 'same agent before churn',
        note: `after each third: ${heaps.map((h) => mib(h.heapUsed).toFixed(2)).join(' → ')} MiB; ${hookCalls} hook calls`,
      },
      {
        section: '3 footprint',
        figure: 'RSS after churn (4 phones)',
        value: mib(last.rss),
        unit: 'MiB',
        floor: mib(first.rss),
        floorLabel: 'same agent before churn',
        note: heaps.map((h) => mib(h.rss).toFixed(1)).join(' → '),
      },
      {
        section: '4 API load',
        figure: `under churn (1 event/s over 4 phones): writes per hour`,
        value: api.writes * perHour,
        unit: '/h',
        note: `${api.writes} in ${Math.round((t1 - t0) / 1000)} s`,
      },
      {
        section: '4 API load',
        figure: `under churn: reads per hour`,
        value: api.reads * perHour,
        unit: '/h',
        note: `${api.reads} in ${Math.round((t1 - t0) / 1000)} s`,
      },
      {
        section: '4 API load',
        figure: '1,000 nodes all churning like this on one API server',
        value: ((api.writes + api.reads) * perHour * 1000) / 3600,
        unit: 'req/s',
      },
    ];
  } finally {
    await agent?.stop();
    await Promise.all(fakes.map((p) => p.close()));
    await cluster.kube.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function footprint(): Promise<Row[]> {
  // The floor: a bare Node process that only keeps an interval, measured in the same windows.
  const floor = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    const rows: Row[] = [];
    for (const phones of QUICK ? [1, 4] : [1, 4, 16])
      rows.push(...(await steady(phones, floor.pid ?? 0)));
    rows.push(...(await churn()));
    return rows;
  } finally {
    floor.kill();
  }
}
