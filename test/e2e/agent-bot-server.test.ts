/**
 * Issue 10 items 2 and 4 end to end: the real farm-agent runs the test bot, which handshakes and
 * polls a fake Swarming server with the credentials its own config/bot_config.py gives before
 * the handshake, updates itself when the server serves new code (swarming_bot.1.zip, re-exec
 * under the same pid), and must keep that code across a restart; when the server refuses the
 * bot's credentials, the agent must say so.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgentProcess, type AgentProcess, type LogLine } from '../rigs/agent-process.js';
import { startFakeSwarming, type FakeSwarming } from '../rigs/fake-swarming.js';
import { BOT_CONFIG_PY } from '../../bot-config/src/paths.js';
import { buildTestBot, type TestBotOptions } from '../rigs/test-bot.js';
import { waitFor } from '../rigs/test-bots.js';
import { startTokenServer, type TokenServer } from '../rigs/token-server.js';

const TOKEN = 'ya29.e2e-update-token';
const BOT_ID = 'skia-rpi2-update';

let swarming: FakeSwarming | undefined;
let tokens: TokenServer | undefined;
let agent: AgentProcess | undefined;
let dir: string;
/** The environment the agent was started with, to start it again. */
let agentEnv: Record<string, string>;

afterEach(async () => {
  await agent?.stop('SIGKILL');
  await swarming?.close();
  await tokens?.close();
  agent = swarming = tokens = undefined;
});

/** A fake server serving the test bot built to talk to it, and an agent running it. */
async function startAll(
  bot: TestBotOptions = {},
  setup: (fake: FakeSwarming) => void = () => undefined,
  env: Record<string, string> = {},
): Promise<{ a: AgentProcess; fake: FakeSwarming; v1: Buffer }> {
  dir = await mkdtemp(join(tmpdir(), 'e2e-update-'));
  const fake = await startFakeSwarming({ zip: Buffer.from('placeholder'), token: TOKEN });
  swarming = fake;
  const v1 = await version('v1', bot);
  fake.setZip(v1);
  setup(fake);
  tokens = await startTokenServer(() => ({
    body: { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' },
  }));
  const tokenConfig = join(dir, 'token.json');
  await writeFile(tokenConfig, JSON.stringify({ url: tokens.url, headers: {} }));
  agentEnv = {
    FARM_SWARMING_SERVER: fake.url,
    FARM_TOKEN_CONFIG: tokenConfig,
    FARM_BOT_ID: BOT_ID,
    FARM_DEVICES: 'none',
    FARM_BOT_STOP_GRACE: '5s',
    TEST_POLL_S: '0.2',
    ...env,
  };
  agent = await startAgentProcess(agentEnv);
  return { a: agent, fake, v1 };
}

/** The test bot as bot code version `label`, naming the running fake server. */
async function version(label: string, bot: TestBotOptions = {}): Promise<Buffer> {
  const path = join(dir, `${label}.zip`);
  await buildTestBot(path, { server: swarming?.url, label, ...bot });
  return readFile(path);
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const botSaid = (text: string) => (line: LogLine) =>
  typeof line.stream === 'string' && typeof line.msg === 'string' && line.msg.startsWith(text);

interface BotStatus {
  pid?: number;
  authRefused?: { reason: string; status?: number; count: number };
}

async function botStatus(a: AgentProcess): Promise<BotStatus | undefined> {
  const status = (await a.getJson('/status')) as { swarming: { bots: BotStatus[] } };
  return status.swarming.bots[0];
}

async function botPid(a: AgentProcess): Promise<number | undefined> {
  return (await botStatus(a))?.pid;
}

/** LUCI's default config/bot_config.py, as far as it matters here: no credentials off GCE. */
const LUCI_DEFAULT_CONFIG = `
from api import os_utilities

def get_dimensions(bot):
  return os_utilities.get_dimensions()

def get_state(bot):
  return os_utilities.get_state()

def get_authentication_headers(bot):
  return (None, None)
`;

/** A server's global bot_config.py that authenticates, as Skia's read its token config. */
const AUTHENTICATING_CONFIG = `
import json, os, time, urllib.request
from api import os_utilities

def get_dimensions(bot):
  return os_utilities.get_dimensions()

def get_state(bot):
  return os_utilities.get_state()

def get_authentication_headers(bot):
  with open(os.environ['FARM_TOKEN_CONFIG']) as f:
    config = json.load(f)
  with urllib.request.urlopen(urllib.request.Request(config['url'], headers=config['headers'])) as r:
    token = json.load(r)
  return {'Authorization': 'Bearer ' + token['access_token']}, time.time() + token['expires_in']
`;

const metric = async (a: AgentProcess, series: string): Promise<number> => {
  const text = await (await fetch(`${a.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};

describe('a bot that updates itself', () => {
  it('keeps its new code across a restart, and the host code follows it', async () => {
    const { a, fake, v1 } = await startAll();
    await a.waitForLog(botSaid(`test bot version ${sha(v1)} running swarming_bot.zip`));
    // The handshake carried the token the zip's own bot_config.py fetched.
    await a.waitForLog(botSaid('handshake ok'));
    const handshake = fake.requests.find((r) => r.path.endsWith('/handshake'));
    expect(handshake?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const pid = await botPid(a);

    // A new bot code deployment: the next poll answers `update`.
    const v2 = await version('v2');
    fake.setZip(v2);
    await a.waitForLog(botSaid(`updating to ${sha(v2)} as swarming_bot.1.zip`));
    await a.waitForLog(botSaid(`test bot version ${sha(v2)} running swarming_bot.1.zip`));
    expect(await botPid(a)).toBe(pid);

    // Any restart (a crash here) must come back on v2, not on the first download.
    const before = a.logs.length;
    // Never `pid ?? 0`: signal 0's group is the test runner's own.
    expect(pid).toEqual(expect.any(Number));
    process.kill(pid as number, 'SIGKILL');
    const restarted = await a.waitForLog(
      (l) => a.logs.indexOf(l) >= before && botSaid('test bot version ')(l),
    );
    expect(String(restarted.msg)).toContain(sha(v2));
    // Two polls: the first one's answer has been acted on once the second is printed.
    const after = (line: LogLine) => (l: LogLine) =>
      a.logs.indexOf(l) > a.logs.indexOf(line) && botSaid('poll ')(l);
    await a.waitForLog(after(await a.waitForLog(after(restarted))));
    // ...so the server has nothing to push again, and the agent downloaded nothing more.
    expect(a.logs.filter(botSaid('updating to'))).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path.startsWith('/bot_code'))).toHaveLength(1);
    // The host's code followed the bot: a new slot would start on v2 too.
    expect(sha(await readFile(join(a.stateDir, 'swarming_bot.zip')))).toBe(sha(v2));

    // A pod restart (same state directory) comes back on v2 as well, with no download.
    expect(await a.stop('SIGTERM')).toBe(0);
    const again = await startAgentProcess({ ...agentEnv, FARM_STATE_DIR: a.stateDir });
    agent = again;
    const back = await again.waitForLog(botSaid('test bot version '));
    expect(String(back.msg)).toContain(sha(v2));
    expect(fake.requests.filter((r) => r.path.startsWith('/bot_code'))).toHaveLength(1);
  }, 60_000);
});

describe('a bot whose credentials the server refuses', () => {
  it('with LUCI’s default config in the zip: the agent says auth is missing, not a silent loop', async () => {
    const { a, fake } = await startAll({ botConfig: LUCI_DEFAULT_CONFIG });
    const logged = await a.waitForLog(
      (l) => l.level === 50 && typeof l.msg === 'string' && l.msg.includes('HTTP 401'),
    );
    expect(logged.msg).toContain("Swarming refuses the bot's requests");
    expect(logged.msg).toContain('/swarming/api/v1/bot/handshake');
    // (None, None) before the handshake: the bot sent no credentials at all.
    const handshakes = fake.requests.filter((r) => r.path.endsWith('/handshake'));
    expect(handshakes.length).toBeGreaterThan(0);
    expect(handshakes.every((r) => r.headers.authorization === undefined)).toBe(true);
    const status = await botStatus(a);
    expect(status?.authRefused).toMatchObject({ status: 401, count: expect.any(Number) });
    expect(status?.authRefused?.reason).toContain('bot_config.py inside swarming_bot.zip');
    // Reported once for the episode, however often the bot retries: wait for three refusals.
    await waitFor(
      'three refused handshakes',
      () => fake.requests.filter((r) => r.path.endsWith('/handshake')).length >= 3,
      30_000,
    );
    const errors = a.logs.filter((l) => l.level === 50 && String(l.msg).includes('HTTP 401'));
    expect(errors).toHaveLength(1);
  });

  it('with our shim as the global config: reports a 403 and clears it once the handshake passes', async () => {
    const { a, fake } = await startAll({}, (f) => {
      f.refuseBots = true;
    });
    await a.waitForLog((l) => l.level === 50 && String(l.msg).includes('HTTP 403'));
    expect((await botStatus(a))?.authRefused).toMatchObject({ status: 403 });

    fake.refuseBots = false;
    await a.waitForLog((l) => l.msg === 'Swarming accepts the bot again');
    await a.waitForLog(botSaid('handshake ok'));
    expect((await botStatus(a))?.authRefused).toBeUndefined();
  });

  it('with an authenticating global config and our shim from bots.cfg: the handshake passes and the shim takes over', async () => {
    const shim = await readFile(BOT_CONFIG_PY, 'utf8');
    const { a, fake } = await startAll(
      { botConfig: AUTHENTICATING_CONFIG },
      (f) => {
        f.injectedBotConfig = shim;
      },
      { FARM_POOL: 'Skia' },
    );
    await a.waitForLog(botSaid('handshake ok'));
    const handshake = fake.requests.find((r) => r.path.endsWith('/handshake'));
    expect(handshake?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    // After the handshake the injected shim answers get_dimensions: the agent's pool.
    const poll = await a.waitForLog(botSaid('poll '));
    expect(JSON.parse(String(poll.msg).slice('poll '.length))).toMatchObject({
      dimensions: { pool: ['Skia'] },
    });
    expect(await metric(a, 'farm_hook_requests_total{hook="on_handshake",code="200"}')).toBe(1);
    expect((await botStatus(a))?.authRefused).toBeUndefined();
  });
});
