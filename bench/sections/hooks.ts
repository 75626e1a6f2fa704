/**
 * 1. Hook round trip as the bot pays it: the real bot_config.py in one python3 process against
 * the running agent, beside the same Python calling a local function.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AgentProcess } from '../../test/rigs/agent-process.js';
import { startFakePhone } from '../../test/rigs/fake-adbd/index.js';
import { QUICK, ROOT, summarise, type Row } from '../lib.js';
import { startAgent, waitForSlots } from '../rig.js';

const run = promisify(execFile);
const N = QUICK ? 50 : 500;

async function timeHooks(agent: AgentProcess, botId: string): Promise<Record<string, number[]>> {
  const { stdout } = await run('python3', [join(ROOT, 'bench', 'hook_calls.py'), String(N)], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PYTHONPATH: [join(ROOT, 'bot-config', 'python'), join(ROOT, 'test', 'rigs', 'test-bot')].join(
        ':',
      ),
      PYTHONDONTWRITEBYTECODE: '1',
      FARM_HOOK_URL: agent.hookUrl,
      SWARMING_BOT_ID: botId,
    },
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Record<string, number[]>;
}

function rows(label: string, times: Record<string, number[]>): Row[] {
  const floor = summarise(times['local function (floor)'] ?? []);
  const out: Row[] = [];
  for (const [name, values] of Object.entries(times)) {
    if (name === 'local function (floor)') continue;
    const s = summarise(values);
    for (const p of ['p50', 'p99'] as const) {
      out.push({
        section: '1 hooks',
        figure: `${label}: ${name} ${p}`,
        value: s[p],
        unit: 'µs',
        floor: floor[p],
        floorLabel: 'local call',
        note: `n=${s.n}`,
      });
    }
  }
  return out;
}

export async function hooks(): Promise<Row[]> {
  const out: Row[] = [];
  {
    const agent = await startAgent({ FARM_DEVICES: 'none', FARM_BOT_ID: 'bench-host' });
    try {
      out.push(...rows('FARM_DEVICES=none', await timeHooks(agent, 'bench-host')));
    } finally {
      await agent.stop();
    }
  }
  {
    const phone = await startFakePhone({ thermal: [] });
    const agent = await startAgent({ FARM_ADB_TCP_DEVICES: phone.serial });
    try {
      const [slot] = await waitForSlots(agent, 1);
      out.push(...rows('1 phone', await timeHooks(agent, slot?.botId ?? '')));
    } finally {
      await agent.stop();
      await phone.close();
    }
  }
  return out;
}
