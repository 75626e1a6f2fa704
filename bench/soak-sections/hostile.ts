/**
 * (a) Hostile hook bodies against the real agent hosting one real (test) Swarming bot: rounds of
 * the catalogue in hostile-requests.ts, then many caller-chosen bot ids with bulky bodies.
 * Counts answers by status code, checks /status after every call made as the real bot, and
 * measures the agent's memory after a forced GC before and after.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_VALUE_LENGTH } from '../../bot-config/src/dimensions.js';
import { operatorAuthorization } from '../../agent/src/operator/credential.js';
import type { AgentProcess } from '../../test/rigs/agent-process.js';
import { startFakeSwarming, type FakeSwarming } from '../../test/rigs/fake-swarming.js';
import { buildTestBot } from '../../test/rigs/test-bot.js';
import { startTokenServer, type TokenServer } from '../../test/rigs/token-server.js';
import { fdSample, procSample, SOAK_QUICK, sleep } from '../lib.js';
import { heapAfterGc, startAgent } from '../rig.js';
import { catalogue, strangerCalls, type Probe } from './hostile-requests.js';
import { inPool, send, Tally } from './hook-client.js';
import type { Check } from './report.js';

const ROUNDS = SOAK_QUICK ? 10 : 200;
const UNIQUE_IDS = SOAK_QUICK ? 200 : 2000;
const UNIQUE_BODY_BYTES = 100_000;
const CONCURRENCY = 8;
const BOT_ID = 'soak-bot';
const TOKEN = 'ya29.soak-token';
const SECTION = 'a hostile hooks';
/**
 * RSS after GC may keep heap pages the big bodies needed for a while (V8 returns them lazily),
 * so its bound is loose; the heap bound is the strict one: nothing retained per caller.
 */
const MAX_RSS_GROWTH_MIB = 64;
const MAX_HEAP_GROWTH_PER_1000_IDS_MIB = 1;

interface Rig {
  agent: AgentProcess;
  swarming: FakeSwarming;
  tokens: TokenServer;
  dir: string;
}

async function startRig(): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'soak-hostile-'));
  const zip = await readFile(await buildTestBot(join(dir, 'swarming_bot.zip')));
  const swarming = await startFakeSwarming({ zip, token: TOKEN });
  const tokens = await startTokenServer(() => ({
    body: { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' },
  }));
  const tokenConfig = join(dir, 'token.json');
  await writeFile(tokenConfig, JSON.stringify({ url: tokens.url, headers: {} }));
  const agent = await startAgent(
    {
      FARM_SWARMING_SERVER: swarming.url,
      FARM_TOKEN_CONFIG: tokenConfig,
      FARM_BOT_ID: BOT_ID,
      FARM_DEVICES: 'none',
      TEST_POLL_S: '1',
    },
    join(dir, 'heap.json'),
  );
  return { agent, swarming, tokens, dir };
}

/** An id dimension Swarming would refuse (too long) in a get_dimensions answer. */
function rejectedId(probe: Probe, body: string): boolean {
  if (!probe.path.startsWith('/get_dimensions')) return false;
  try {
    const ids = (JSON.parse(body) as { id?: unknown }).id;
    return (
      Array.isArray(ids) && ids.some((v) => typeof v === 'string' && v.length > MAX_VALUE_LENGTH)
    );
  } catch {
    return false;
  }
}

const polls = (agent: AgentProcess): number =>
  agent.logs.filter((l) => l.stream === 'stdout' && String(l.msg).startsWith('poll ')).length;

export async function hostile(): Promise<Check[]> {
  const rig = await startRig();
  const { agent, dir } = rig;
  const heapFile = join(dir, 'heap.json');
  const pid = agent.child.pid ?? 0;
  try {
    await agent.waitForLog((l) => String(l.msg).startsWith('test bot up'), 30_000);
    await sleep(3000);
    const heap0 = await heapAfterGc(agent, heapFile);
    const rss0 = procSample(pid).rssBytes;
    const fd0 = fdSample(pid);
    const polls0 = polls(agent);
    const t0 = Date.now();

    const hooks = new Tally();
    const status = new Tally();
    let rejectedIds = 0;
    const checkStatus = async (after: string): Promise<void> => {
      status.add(after, (await send(agent.httpUrl, { method: 'GET', path: '/status' })).status);
    };
    const probes = catalogue(
      BOT_ID,
      await operatorAuthorization(join(agent.stateDir, 'operator-credential')),
    );
    for (let round = 0; round < ROUNDS; round++) {
      await inPool(probes, CONCURRENCY, async (probe) => {
        const answer = await send(agent.hookUrl, probe);
        hooks.add(
          probe.name,
          answer.status === 'reset' && probe.oversized
            ? 'reset, body over the limit'
            : answer.status,
        );
        if (answer.status === 200 && rejectedId(probe, answer.body)) rejectedIds += 1;
        if (probe.asKnownBot) await checkStatus(probe.name);
      });
    }
    const heap1 = await heapAfterGc(agent, heapFile);

    const ids = Array.from({ length: UNIQUE_IDS }, (_, i) => `soak-stranger-${i}`);
    await inPool(ids, CONCURRENCY, async (id, i) => {
      for (const call of strangerCalls(id, UNIQUE_BODY_BYTES)) {
        hooks.add(`unique id ${call.path}`, (await send(agent.hookUrl, call)).status);
      }
      if (i % 50 === 0) await checkStatus('unique ids');
    });
    await checkStatus('end');
    await sleep(1000);
    const heap2 = await heapAfterGc(agent, heapFile);
    const rss2 = procSample(pid).rssBytes;
    const fd2 = fdSample(pid);
    const seconds = (Date.now() - t0) / 1000;
    const finalStatus = (await agent.getJson('/status')) as {
      swarming: { bots: { botId: string; running: boolean }[] };
    };
    const botRunning = finalStatus.swarming.bots.some((b) => b.botId === BOT_ID && b.running);
    const alive = agent.child.exitCode === null && agent.child.signalCode === null;

    const mib = (x: number): number => x / 2 ** 20;
    const culprits = (kind: string): string =>
      [...(hooks.culprits.get(kind) ?? [])].slice(0, 12).join('; ');
    const codes = [...hooks.byOutcome.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    const fiveXx = hooks.count((k) => k.startsWith('5'));
    const lost = hooks.count((k) => k === 'reset' || k === 'timeout');
    return [
      {
        section: SECTION,
        figure: `hook calls (${ROUNDS} rounds × ${probes.length} kinds + ${UNIQUE_IDS} ids × 5)`,
        value: hooks.total,
        unit: 'calls',
        note: `${codes}; ${Math.round(seconds)} s, ${CONCURRENCY} at a time`,
      },
      {
        section: SECTION,
        figure: 'answered 5xx',
        value: fiveXx,
        unit: 'calls',
        max: 0,
        note: culprits('5xx'),
      },
      {
        section: SECTION,
        figure: 'answered 2xx',
        value: hooks.count((k) => k.startsWith('2')),
        unit: 'calls',
      },
      {
        section: SECTION,
        figure: 'answered 4xx',
        value: hooks.count((k) => k.startsWith('4')),
        unit: 'calls',
      },
      {
        section: SECTION,
        figure: 'connection reset or no answer in 15 s',
        value: lost,
        unit: 'calls',
        max: 0,
        note: [culprits('reset'), culprits('timeout')].filter(Boolean).join('; '),
      },
      {
        section: SECTION,
        figure: `get_dimensions answers with an id over ${MAX_VALUE_LENGTH} chars`,
        value: rejectedIds,
        unit: 'answers',
        max: 0,
        note: 'Swarming rejects such a bot',
      },
      {
        section: SECTION,
        figure: 'GET /status not 200 (after each call as the real bot)',
        value: status.total - status.count((k) => k === '200'),
        unit: `of ${status.total}`,
        max: 0,
        note: [...status.byOutcome.entries()].map(([k, v]) => `${k}: ${v}`).join(', '),
      },
      {
        section: SECTION,
        figure: 'agent alive, its bot running and polling',
        value: alive && botRunning ? 1 : 0,
        unit: 'yes',
        min: 1,
        note: `${polls(agent) - polls0} bot polls in ${Math.round(seconds)} s`,
      },
      {
        section: SECTION,
        figure: 'RSS after GC, growth over the probe',
        value: mib(heap2.rss - heap0.rss),
        unit: 'MiB',
        max: MAX_RSS_GROWTH_MIB,
        note: `${mib(heap0.rss).toFixed(0)} → ${mib(heap1.rss).toFixed(0)} (rounds) → ${mib(heap2.rss).toFixed(0)} MiB (ids); /proc RSS ${mib(rss0).toFixed(0)} → ${mib(rss2).toFixed(0)} MiB`,
      },
      {
        section: SECTION,
        figure: `heap used after GC, growth per 1,000 unique bot ids`,
        value: (mib(heap2.heapUsed - heap1.heapUsed) * 1000) / UNIQUE_IDS,
        unit: 'MiB',
        max: MAX_HEAP_GROWTH_PER_1000_IDS_MIB,
        note: `${mib(heap0.heapUsed).toFixed(1)} → ${mib(heap1.heapUsed).toFixed(1)} (rounds) → ${mib(heap2.heapUsed).toFixed(1)} MiB (${UNIQUE_IDS} ids, ${UNIQUE_BODY_BYTES / 1000} KB bodies)`,
      },
      {
        section: SECTION,
        figure: 'open fds, growth over the probe',
        value: fd2.fds - fd0.fds,
        unit: 'fds',
        max: 5,
        note: `${fd0.fds} → ${fd2.fds} (sockets ${fd0.sockets} → ${fd2.sockets})`,
      },
    ];
  } finally {
    await agent.stop();
    await rig.swarming.close();
    await rig.tokens.close();
    await rm(dir, { recursive: true, force: true });
  }
}
