/**
 * 6. Start-up: from spawning `node agent/bin/farm-agent.js run` to /healthz answering on the hook
 * port, beside spawning `node -e` until it has printed.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { standaloneEnv } from '../../test/rigs/standalone-env.js';
import { pollUntil, QUICK, ROOT, summarise, type Row } from '../lib.js';

const RUNS = QUICK ? 3 : 10;
const BIN = join(ROOT, 'agent', 'bin', 'farm-agent.js');

/** Milliseconds from spawn to the hook listener answering /healthz; the agent is then stopped. */
async function agentStart(devices: string): Promise<number> {
  const state = await mkdtemp(join(tmpdir(), 'bench-start-'));
  const { env, hookPort, adbPort } = await standaloneEnv(state, devices);
  const t0 = performance.now();
  const child = spawn(BIN, ['run'], {
    env,
    stdio: 'ignore',
  });
  try {
    await pollUntil(
      'the hook listener',
      async () => {
        const r = await fetch(`http://127.0.0.1:${hookPort}/healthz`);
        return r.ok ? true : undefined;
      },
      20_000,
      2,
    );
    return performance.now() - t0;
  } finally {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
    await new Promise((resolve) =>
      execFile('adb', ['-P', String(adbPort), 'kill-server'], { timeout: 5000 }, resolve),
    );
    await rm(state, { recursive: true, force: true });
  }
}

function nodeE(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', 'console.log("up")'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    child.stdout.once('data', () => resolve(performance.now() - t0));
    child.once('error', reject);
  });
}

export async function startup(): Promise<Row[]> {
  const floor: number[] = [];
  const none: number[] = [];
  const adb: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    floor.push(await nodeE());
    none.push(await agentStart('none'));
    adb.push(await agentStart('adb'));
  }
  const f = summarise(floor);
  const rows: Row[] = [];
  for (const [label, values] of [
    ['FARM_DEVICES=none', none],
    ['FARM_DEVICES=adb (own adb server, no phones)', adb],
  ] as const) {
    const s = summarise(values);
    for (const p of ['p50', 'max'] as const) {
      rows.push({
        section: '6 start-up',
        figure: `spawn → hook /healthz, ${label}, ${p}`,
        value: s[p],
        unit: 'ms',
        floor: f[p],
        floorLabel: 'node -e print',
        note: `n=${s.n}`,
      });
    }
  }
  return rows;
}
