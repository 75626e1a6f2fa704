/**
 * 3. Footprint: RSS and CPU of the agent at steady state with 1, 16 and 32 phones, beside a bare
 * Node process keeping an interval, and what each added phone costs; the whole pod (agent, adb
 * server, one bot per phone) with 16 phones; heap after an hour-equivalent of churn.
 * 4. API load: requests on the fake API per node per hour, steady and under churn.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentProcess } from '../../test/rigs/agent-process.js';
import { hostRequest } from '../../test/rigs/adb-server.js';
import { startFakePhone, type FakePhone } from '../../test/rigs/fake-adbd/index.js';
import type { FakeKube } from '../../test/rigs/fake-kube/index.js';
import { startFakeSwarming } from '../../test/rigs/fake-swarming.js';
import { buildTestBot } from '../../test/rigs/test-bot.js';
import { startTokenServer } from '../../test/rigs/token-server.js';
import {
  cpuPercent,
  descendants,
  pollUntil,
  procSample,
  pssBytes,
  QUICK,
  sleep,
  type ProcSample,
  type Row,
} from '../lib.js';
import { callHook, heapAfterGc, startAgent, startCluster, waitForSlots } from '../rig.js';

const SETTLE_MS = QUICK ? 3000 : 10_000;
const WINDOW_MS = QUICK ? 10_000 : 60_000;
/**
 * The first window opens seconds after the slots are ready, while V8 still optimises code that
 * becomes hot only after minutes of 30 s refreshes and its memory reducer runs full GCs: the
 * settled window, at the middle phone count, is what a Pi sees for the months after.
 */
const SETTLED_AFTER_MS = QUICK ? 0 : 8 * 60_000;
const SETTLED_WINDOW_MS = 180_000;
/** 120 refreshes per phone at 1 s: an hour of the default 30 s refresh. */
const CHURN_MS = QUICK ? 20_000 : 120_000;
const PHONE_COUNTS = QUICK ? [1, 4, 8] : [1, 16, 32];
/** The phones of the whole-pod run, each with its bot. */
const POD_PHONES = QUICK ? 4 : 16;
/** How often each stand-in bot asks for its dimensions and state (an idle bot's poll). */
const BOT_POLL_S = 10;
const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const MiB = 2 ** 20;

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

/** The fake Swarming server and token endpoint the agent's bots need; the env naming them. */
async function botServers(): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-bots-'));
  const zip = await buildTestBot(join(dir, 'swarming_bot.zip'));
  const swarming = await startFakeSwarming({ zip: await readFile(zip), token: 'bench' });
  const tokens = await startTokenServer(() => ({
    body: { access_token: 'bench', expires_in: 3600 },
  }));
  const tokenConfig = join(dir, 'token.json');
  await writeFile(tokenConfig, JSON.stringify({ url: tokens.url, headers: {} }));
  return {
    env: {
      FARM_SWARMING_SERVER: swarming.url,
      FARM_TOKEN_CONFIG: tokenConfig,
      TEST_POLL_S: String(BOT_POLL_S),
    },
    async close() {
      await swarming.close();
      await tokens.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

interface Steady {
  phones: number;
  agent: { a: ProcSample; b: ProcSample };
  floor: { a: ProcSample; b: ProcSample };
  adb: { a: ProcSample; b: ProcSample };
  /** `connections`: TCP connections the agent opened to the API in the window. */
  api: { writes: number; reads: number; perHour: number; seconds: number; connections: number };
  /** A second window from SETTLED_AFTER_MS after the slots were ready. */
  settled?: {
    a: ProcSample;
    b: ProcSample;
    floorA: ProcSample;
    floorB: ProcSample;
    afterReadyS: number;
  };
  /** With bots: PSS of the agent, its adb server and the bots, and the bots' CPU. */
  pod?: { agentPss: number; adbPss: number; botsPss: number; bots: number; botsCpu: number };
}

/** CPU seconds of several processes together (those gone meanwhile count as 0). */
function cpuOf(pids: readonly number[]): ProcSample {
  let cpuSeconds = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    try {
      const s = procSample(pid);
      cpuSeconds += s.cpuSeconds;
      rssBytes += s.rssBytes;
    } catch {
      // exited
    }
  }
  return { at: Date.now(), cpuSeconds, rssBytes };
}

/** The agent with `phones` phones at default settings, measured over one window. */
async function steady(
  phones: number,
  floorPid: number,
  withBots: boolean,
  settled = false,
): Promise<Steady> {
  const cluster = await startCluster();
  const fakes = await startPhones(phones);
  const bots = withBots ? await botServers() : undefined;
  let agent: AgentProcess | undefined;
  try {
    // Every interval at its default: refresh 30 s, Lease 10 s, Node poll 30 s.
    agent = await startAgent({
      FARM_KUBECONFIG: cluster.kubeconfig,
      FARM_ADB_TCP_DEVICES: fakes.map((p) => p.serial).join(','),
      ...bots?.env,
    });
    const live = agent;
    const pid = live.child.pid ?? 0;
    await waitForSlots(live, phones, 'ready', 90_000);
    const readyAt = Date.now();
    if (withBots) {
      await pollUntil(
        `${phones} bots up`,
        () =>
          live.logs.filter((l) => String(l.msg).startsWith('test bot up')).length >= phones
            ? true
            : undefined,
        60_000,
        200,
      );
    }
    await sleep(SETTLE_MS);
    const adbPid = Number(
      ((await live.getJson('/status')) as { devices: { adbServer: { pid: number } } }).devices
        .adbServer.pid,
    );
    const botPids = (): number[] => {
      const adbTree = new Set([adbPid, ...descendants(adbPid)]);
      return descendants(pid).filter((p) => !adbTree.has(p));
    };
    const botsA = withBots ? cpuOf(botPids()) : undefined;
    const a = procSample(pid);
    const fa = procSample(floorPid);
    const adbA = procSample(adbPid);
    const connectionsA = cluster.kube.connections;
    await sleep(WINDOW_MS);
    const b = procSample(pid);
    const fb = procSample(floorPid);
    const adbB = procSample(adbPid);
    const botsB = withBots ? cpuOf(botPids()) : undefined;
    const api = apiCounts(cluster.kube, a.at, b.at);
    const result: Steady = {
      phones,
      agent: { a, b },
      floor: { a: fa, b: fb },
      adb: { a: adbA, b: adbB },
      api: {
        ...api,
        perHour: 3_600_000 / (b.at - a.at),
        seconds: (b.at - a.at) / 1000,
        connections: cluster.kube.connections - connectionsA,
      },
    };
    if (settled) {
      await sleep(readyAt + SETTLED_AFTER_MS - Date.now());
      const settledA = procSample(pid);
      const floorA = procSample(floorPid);
      await sleep(SETTLED_WINDOW_MS);
      result.settled = {
        a: settledA,
        b: procSample(pid),
        floorA,
        floorB: procSample(floorPid),
        afterReadyS: (settledA.at - readyAt) / 1000,
      };
    }
    if (botsA && botsB) {
      const botList = botPids();
      result.pod = {
        agentPss: pssBytes(pid),
        adbPss: [adbPid, ...descendants(adbPid)].reduce((sum, p) => sum + pssBytes(p), 0),
        botsPss: botList.reduce((sum, p) => sum + pssBytes(p), 0),
        bots: botList.length,
        botsCpu: cpuPercent(botsA, botsB),
      };
    }
    return result;
  } finally {
    await agent?.stop();
    await bots?.close();
    await Promise.all(fakes.map((p) => p.close()));
    await cluster.kube.close();
  }
}

const settledLabel = ({ a, b, afterReadyS }: NonNullable<Steady['settled']>): string =>
  `${Math.round((b.at - a.at) / 1000)} s window from ${Math.round(afterReadyS / 60)} min after ready`;

const label = (phones: number): string => `${phones} phone${phones === 1 ? '' : 's'}`;

function steadyRows(s: Steady): Row[] {
  const { agent, floor, adb, api } = s;
  const window = `defaults, ${Math.round(api.seconds)} s window`;
  const settledRows: Row[] = s.settled
    ? [
        {
          section: '3 footprint',
          figure: `agent CPU, ${label(s.phones)}, settled (${settledLabel(s.settled)})`,
          value: cpuPercent(s.settled.a, s.settled.b),
          unit: '% core',
          floor: cpuPercent(s.settled.floorA, s.settled.floorB),
          floorLabel: 'bare node',
          note: `RSS ${(s.settled.b.rssBytes / MiB).toFixed(1)} MiB at its end`,
        },
      ]
    : [];
  return [
    {
      section: '3 footprint',
      figure: `agent RSS, ${label(s.phones)}`,
      value: agent.b.rssBytes / MiB,
      unit: 'MiB',
      floor: floor.b.rssBytes / MiB,
      floorLabel: 'bare node',
      note: `adb server RSS ${(adb.b.rssBytes / MiB).toFixed(1)} MiB`,
    },
    {
      section: '3 footprint',
      figure: `agent CPU, ${label(s.phones)} (${window})`,
      value: cpuPercent(agent.a, agent.b),
      unit: '% core',
      floor: cpuPercent(floor.a, floor.b),
      floorLabel: 'bare node',
      note: `adb server ${cpuPercent(adb.a, adb.b).toFixed(2)} % core`,
    },
    ...settledRows,
  ];
}

/** What each phone added between two runs: RSS and CPU over the phones added. */
function marginalRows(from: Steady, to: Steady): Row[] {
  const added = to.phones - from.phones;
  const span = `${from.phones} → ${to.phones} phones`;
  const cpu = (s: Steady): number => cpuPercent(s.agent.a, s.agent.b);
  const adbCpu = (s: Steady): number => cpuPercent(s.adb.a, s.adb.b);
  return [
    {
      section: '3 footprint',
      figure: `agent RSS per added phone, ${span}`,
      value: (to.agent.b.rssBytes - from.agent.b.rssBytes) / added / MiB,
      unit: 'MiB',
      note: `adb server: ${((to.adb.b.rssBytes - from.adb.b.rssBytes) / added / MiB).toFixed(2)} MiB per phone`,
    },
    {
      section: '3 footprint',
      figure: `agent CPU per added phone, ${span}`,
      value: (cpu(to) - cpu(from)) / added,
      unit: '% core',
      note: `adb server: ${((adbCpu(to) - adbCpu(from)) / added).toFixed(4)} % core per phone`,
    },
  ];
}

function podRows(s: Steady): Row[] {
  const pod = s.pod;
  if (!pod) return [];
  const total = pod.agentPss + pod.adbPss + pod.botsPss;
  const agentCpu = cpuPercent(s.agent.a, s.agent.b);
  const adbCpu = cpuPercent(s.adb.a, s.adb.b);
  const cpuTotal = agentCpu + adbCpu + pod.botsCpu;
  const who = `${label(s.phones)}, a stand-in bot each polling its hooks every ${BOT_POLL_S} s`;
  return [
    {
      section: '3 footprint',
      figure: `whole pod PSS (agent + adb server + ${pod.bots} bot processes), ${who}`,
      value: total / MiB,
      unit: 'MiB',
      note: `agent ${(pod.agentPss / MiB).toFixed(1)}, adb server ${(pod.adbPss / MiB).toFixed(1)}, bots ${(pod.botsPss / MiB).toFixed(1)} MiB (${(pod.botsPss / pod.bots / MiB).toFixed(1)} per process)`,
    },
    {
      section: '3 footprint',
      figure: `bots' share of the pod's memory (PSS), ${label(s.phones)}`,
      value: (100 * pod.botsPss) / total,
      unit: '%',
    },
    {
      section: '3 footprint',
      figure: `whole pod CPU, ${who}`,
      value: cpuTotal,
      unit: '% core',
      note: `agent ${agentCpu.toFixed(2)}, adb server ${adbCpu.toFixed(2)}, bots ${pod.botsCpu.toFixed(2)} % core`,
    },
  ];
}

function apiRows(s: Steady): Row[] {
  const { writes, reads, perHour, seconds, connections } = s.api;
  const within = `in ${Math.round(seconds)} s`;
  return [
    {
      section: '4 API load',
      figure: `steady, ${label(s.phones)}: writes per hour`,
      value: writes * perHour,
      unit: '/h',
      note: `${writes} ${within}, Lease renew 10 s (default); ${connections} new connections`,
    },
    {
      section: '4 API load',
      figure: `steady, ${label(s.phones)}: reads per hour`,
      value: reads * perHour,
      unit: '/h',
      note: `${reads} ${within}, Node poll 30 s (default)`,
    },
    {
      section: '4 API load',
      figure: `1,000 nodes steady (${label(s.phones)} each) on one API server`,
      value: ((writes + reads) * perHour * 1000) / 3600,
      unit: 'req/s',
    },
  ];
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
    const floorPid = floor.pid ?? 0;
    const runs: Steady[] = [];
    for (const phones of PHONE_COUNTS) {
      runs.push(await steady(phones, floorPid, false, !QUICK && phones === PHONE_COUNTS[1]));
    }
    const rows = runs.flatMap(steadyRows);
    for (let i = 1; i < runs.length; i += 1) {
      rows.push(...marginalRows(runs[i - 1] as Steady, runs[i] as Steady));
    }
    rows.push(...podRows(await steady(POD_PHONES, floorPid, true)));
    rows.push(...apiRows(runs[1] ?? (runs[0] as Steady)));
    rows.push(...(await churn()));
    return rows;
  } finally {
    floor.kill();
  }
}
