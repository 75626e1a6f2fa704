/**
 * 1. Hook round trip as the bot pays it: the real bot_config.py in one python3 process against
 * the running agent, beside the same shim calls to a bare node:http server on loopback
 * (bench/bare-hook-server.mjs) in the same run. Then the same calls made by the bot the agent
 * runs, which the agent checks are its process, beside the unchecked ones.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { botProcessCheck } from '../../bot-config/src/hook-callers.js';
import { startFakePhone } from '../../test/rigs/fake-adbd/index.js';
import { startFakeSwarming } from '../../test/rigs/fake-swarming.js';
import { BOT_CONFIG_PY } from '../../bot-config/src/paths.js';
import { buildTestBot } from '../../test/rigs/test-bot.js';
import { startTokenServer } from '../../test/rigs/token-server.js';
import { pollUntil, QUICK, ROOT, summarise, type Row } from '../lib.js';
import { startAgent, waitForSlots } from '../rig.js';

const run = promisify(execFile);
const N = QUICK ? 50 : 500;

type Times = Record<string, number[]>;

async function timeHooks(
  hookUrl: string,
  botId: string,
  floorUrl?: string,
): Promise<Times | { agent: Times; floor: Times }> {
  const { stdout } = await run('python3', [join(ROOT, 'bench', 'hook_calls.py'), String(N)], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PYTHONPATH: [join(ROOT, 'bot-config', 'python'), join(ROOT, 'test', 'rigs', 'test-bot')].join(
        ':',
      ),
      PYTHONDONTWRITEBYTECODE: '1',
      FARM_HOOK_URL: hookUrl,
      SWARMING_BOT_ID: botId,
      ...(floorUrl === undefined ? {} : { BENCH_FLOOR_URL: floorUrl }),
    },
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Times | { agent: Times; floor: Times };
}

/**
 * The shim's calls to the agent, each followed by the same call to a bare server (the floor of
 * a hook round trip), so that both see the same load from other processes.
 */
async function timeBesideBareServer(
  hookUrl: string,
  botId: string,
): Promise<{ agent: Times; floor: Times }> {
  const server = spawn(process.execPath, [join(ROOT, 'bench', 'bare-hook-server.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [port] = (await once(server.stdout, 'data')) as [Buffer];
    const bareUrl = `http://127.0.0.1:${String(port).trim()}`;
    return (await timeHooks(hookUrl, botId, bareUrl)) as { agent: Times; floor: Times };
  } finally {
    server.kill();
  }
}

/**
 * The same calls from the bot the agent runs (bench_bot_main.py as its swarming_bot.zip), so
 * each passes the caller check: /proc/net/tcp and the bot's /proc/<pid>/fd per call.
 */
async function timeHooksAsBot(): Promise<Record<string, number[]>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-hooks-'));
  const read = (path: string) => readFile(path, 'utf8');
  const zip = await buildTestBot(join(dir, 'swarming_bot.zip'), {
    files: {
      '__main__.py': await read(join(ROOT, 'bench', 'bench_bot_main.py')),
      'hook_calls.py': await read(join(ROOT, 'bench', 'hook_calls.py')),
      'bot_config.py': await read(BOT_CONFIG_PY),
    },
  });
  const swarming = await startFakeSwarming({ zip: await readFile(zip), token: 'bench' });
  const tokens = await startTokenServer(() => ({
    body: { access_token: 'bench', expires_in: 3600 },
  }));
  const tokenConfig = join(dir, 'token.json');
  await writeFile(tokenConfig, JSON.stringify({ url: tokens.url, headers: {} }));
  const out = join(dir, 'times.json');
  const agent = await startAgent({
    FARM_DEVICES: 'none',
    FARM_BOT_ID: 'bench-host',
    FARM_SWARMING_SERVER: swarming.url,
    FARM_TOKEN_CONFIG: tokenConfig,
    BENCH_HOOK_OUT: out,
    BENCH_HOOK_N: String(N),
  });
  try {
    const { value } = await pollUntil(
      'the bot to time its hooks',
      async () => JSON.parse(await read(out)) as Record<string, number[]>,
      300_000,
      200,
    );
    return value;
  } finally {
    await agent.stop();
    await swarming.close();
    await tokens.close();
  }
}

/**
 * One lookup without the per-connection memo: what the first hook on each connection pays, on a
 * kept-alive connection from a real python3 process. Its cost grows with the TCP sockets of the
 * network namespace (with hostNetwork, the node's), so their count is printed with it.
 */
async function timeOneLookup(): Promise<{ times: number[]; sockets: number }> {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const holder = spawn('python3', [
    '-c',
    'import socket, sys; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); sys.stdin.read()',
    String(port),
  ]);
  try {
    const socket = await accepted;
    const times: number[] = [];
    for (let i = 0; i < (QUICK ? 20 : 200); i += 1) {
      const check = botProcessCheck(() => holder.pid);
      const start = process.hrtime.bigint();
      const refused = await check(socket, 'bench-host', 'bot');
      times.push(Number(process.hrtime.bigint() - start) / 1000);
      if (refused !== undefined) throw new Error(`the lookup failed: ${refused}`);
    }
    const sockets = (await readFile('/proc/net/tcp', 'latin1')).trim().split('\n').length - 1;
    return { times, sockets };
  } finally {
    holder.kill();
    server.close();
  }
}

/** Each checked hook beside the same hook unchecked in this run: the check's cost per call. */
function checkedRows(
  unchecked: Record<string, number[]>,
  checked: Record<string, number[]>,
): Row[] {
  const out: Row[] = [];
  for (const [name, values] of Object.entries(checked)) {
    if (name === 'urllib GET /healthz') continue;
    const floor = summarise(unchecked[name] ?? []);
    const s = summarise(values);
    for (const p of ['p50', 'p99'] as const) {
      out.push({
        section: '1 hooks',
        figure: `caller checked (the agent's bot): ${name} ${p}`,
        value: s[p],
        unit: 'µs',
        floor: floor[p],
        floorLabel: 'unchecked',
        note: `n=${s.n}`,
      });
    }
  }
  return out;
}

/** Each hook beside the same shim call to the bare server in this run. */
function rows(
  label: string,
  times: Record<string, number[]>,
  bare: Record<string, number[]>,
): Row[] {
  const out: Row[] = [];
  for (const [name, values] of Object.entries(times)) {
    const floor = summarise(bare[name] ?? []);
    const s = summarise(values);
    for (const p of ['p50', 'p99'] as const) {
      out.push({
        section: '1 hooks',
        figure: `${label}: ${name} ${p}`,
        value: s[p],
        unit: 'µs',
        floor: floor[p],
        floorLabel: 'bare node:http server',
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
    let unchecked: Times;
    try {
      const times = await timeBesideBareServer(agent.hookUrl, 'bench-host');
      unchecked = times.agent;
      out.push(...rows('FARM_DEVICES=none', unchecked, times.floor));
    } finally {
      await agent.stop();
    }
    out.push(...checkedRows(unchecked, await timeHooksAsBot()));
    const lookup = await timeOneLookup();
    const roundTrip = summarise(unchecked['get_state'] ?? []);
    const s = summarise(lookup.times);
    for (const p of ['p50', 'p99'] as const) {
      out.push({
        section: '1 hooks',
        figure: `caller lookup, once per connection (${lookup.sockets} TCP sockets) ${p}`,
        value: s[p],
        unit: 'µs',
        floor: roundTrip[p],
        floorLabel: 'unchecked get_state',
        note: `n=${s.n}`,
      });
    }
  }
  {
    const phone = await startFakePhone({ thermal: [] });
    const agent = await startAgent({ FARM_ADB_TCP_DEVICES: phone.serial });
    try {
      const [slot] = await waitForSlots(agent, 1);
      const botId = slot?.botId ?? '';
      const times = await timeBesideBareServer(agent.hookUrl, botId);
      out.push(...rows('1 phone', times.agent, times.floor));
    } finally {
      await agent.stop();
      await phone.close();
    }
  }
  return out;
}
