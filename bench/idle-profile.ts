/**
 * Where the agent's idle CPU goes: the agent with N fake phones at default settings, standalone
 * or with the fake API, CPU seconds from /proc (user and system, by thread) over a fixed window,
 * and optionally a V8 CPU profile of that window. Not a benchmark section: a tool for finding
 * what to cut. CPU seconds are less sensitive to a loaded machine than a share of wall time;
 * run two trees side by side to compare them under the same load. After `npm run bench` (or
 * `tsc -b && tsc -p bench`):
 *
 *   node --import ./bench/register.mjs bench/idle-profile.ts [phones] [window s] [kube|standalone] [prof]
 *
 * AGENT_NODE_OPTIONS is handed to the agent (e.g. --perf-basic-prof, for `perf record -p`);
 * SLICES=n prints the CPU of each n-th of the window too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakePhone } from '../test/rigs/fake-adbd/index.js';
import { procSample, ROOT, sleep } from './lib.js';
import { startAgent, startCluster, waitForSlots } from './rig.js';

const phones = Number(process.argv[2] ?? 16);
const windowS = Number(process.argv[3] ?? 60);
const withKube = (process.argv[4] ?? 'standalone') === 'kube';
const profile = process.argv[5] === 'prof';
/** Preload: SIGWINCH starts the profiler, the next one writes PROF_OUT. */
const PROF_PRELOAD = join(ROOT, 'bench', 'cpu-profile-preload.mjs');

/**
 * CPU ticks (1/100 s) of each thread of a process, with its name; the main thread (the event
 * loop) is named `main`, as Node names its V8 and libuv workers `node` too.
 */
function threadTicks(pid: number): Map<string, { name: string; ticks: number }> {
  const threads = new Map<string, { name: string; ticks: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const name = tid === String(pid) ? 'main' : `${comm} workers`;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.set(`${tid} user`, { name: `${name} user`, ticks: Number(fields[11]) });
    threads.set(`${tid} sys`, { name: `${name} sys`, ticks: Number(fields[12]) });
  }
  return threads;
}

const cluster = withKube ? await startCluster() : undefined;
const fakes = await Promise.all(
  Array.from({ length: phones }, () =>
    startFakePhone({ thermal: [], battery: { temperature: 280 }, rebootAwayMs: 300 }),
  ),
);
const profDir = await mkdtemp(join(tmpdir(), 'idle-prof-'));
const agent = await startAgent({
  ...(cluster ? { FARM_KUBECONFIG: cluster.kubeconfig } : {}),
  FARM_ADB_TCP_DEVICES: fakes.map((p) => p.serial).join(','),
  ...(profile
    ? { NODE_OPTIONS: `--import=${PROF_PRELOAD}`, PROF_OUT: join(profDir, 'idle.cpuprofile') }
    : {}),
  ...(process.env.AGENT_NODE_OPTIONS ? { NODE_OPTIONS: process.env.AGENT_NODE_OPTIONS } : {}),
});
const pid = agent.child.pid ?? 0;
await waitForSlots(agent, phones, 'ready', 120_000);
await sleep(10_000);
if (profile) agent.child.kill('SIGWINCH');
console.log(`window starts: agent pid ${pid}`);
const a = procSample(pid);
const threadsA = threadTicks(pid);
// SLICES=n also prints each n-th of the window, main thread and workers apart: whether an
// agent's idle CPU falls as it ages (the optimiser's warm-up, caches filling).
const slices = Number(process.env.SLICES ?? 1);
let before = threadsA;
for (let i = 1; i <= slices; i++) {
  await sleep((windowS * 1000) / slices);
  if (slices === 1) break;
  const now = threadTicks(pid);
  const spent = { main: 0, workers: 0 };
  for (const [tid, { name, ticks }] of now) {
    spent[name.startsWith('main') ? 'main' : 'workers'] +=
      (ticks - (before.get(tid)?.ticks ?? 0)) / 100;
  }
  before = now;
  console.log(
    `slice ${i}/${slices}: main ${spent.main.toFixed(2)} s, workers ${spent.workers.toFixed(2)} s`,
  );
}
const b = procSample(pid);
const threadsB = threadTicks(pid);
if (profile) agent.child.kill('SIGWINCH');
await sleep(2000);
const cpu = b.cpuSeconds - a.cpuSeconds;
const seconds = (b.at - a.at) / 1000;
console.log(
  `${phones} phones, ${withKube ? 'fake API' : 'standalone'}: ${cpu.toFixed(2)} CPU s in ${seconds.toFixed(1)} s = ${((100 * cpu) / seconds).toFixed(3)} % core; RSS ${(b.rssBytes / 2 ** 20).toFixed(1)} MiB`,
);
const perThread = new Map<string, number>();
for (const [tid, { name, ticks }] of threadsB) {
  const before = threadsA.get(tid)?.ticks ?? 0;
  perThread.set(name, (perThread.get(name) ?? 0) + (ticks - before) / 100);
}
console.log(
  'by thread (CPU s):',
  [...perThread].map(([name, s]) => `${name} ${s.toFixed(2)}`).join(', '),
);
await agent.stop();
await Promise.all(fakes.map((p) => p.close()));
await cluster?.kube.close();

if (profile) {
  console.log(`profile: ${join(profDir, 'idle.cpuprofile')}`);
}
