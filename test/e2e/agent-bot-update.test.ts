/**
 * Issue 10 item 2 end to end: the real farm-agent runs the test bot, which handshakes and polls
 * a fake Swarming server with the token its own config/bot_config.py fetches, updates itself
 * when the server serves new code (swarming_bot.1.zip, re-exec under the same pid), and must
 * keep that code across a restart.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgentProcess, type AgentProcess, type LogLine } from '../rigs/agent-process.js';
import { startFakeSwarming, type FakeSwarming } from '../rigs/fake-swarming.js';
import { buildTestBot, type TestBotOptions } from '../rigs/test-bot.js';
import { startTokenServer, type TokenServer } from '../rigs/token-server.js';

const TOKEN = 'ya29.e2e-update-token';
const BOT_ID = 'skia-rpi2-update';

let swarming: FakeSwarming | undefined;
let tokens: TokenServer | undefined;
let agent: AgentProcess | undefined;
let dir: string;

afterEach(async () => {
  await agent?.stop('SIGKILL');
  await swarming?.close();
  await tokens?.close();
  agent = swarming = tokens = undefined;
});

/** A fake server serving the test bot built to talk to it, and an agent running it. */
async function startAll(
  bot: TestBotOptions = {},
): Promise<{ a: AgentProcess; fake: FakeSwarming; v1: Buffer }> {
  dir = await mkdtemp(join(tmpdir(), 'e2e-update-'));
  const fake = await startFakeSwarming({ zip: Buffer.from('placeholder'), token: TOKEN });
  swarming = fake;
  const v1 = await version('v1', bot);
  fake.setZip(v1);
  tokens = await startTokenServer(() => ({
    body: { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' },
  }));
  const tokenConfig = join(dir, 'token.json');
  await writeFile(tokenConfig, JSON.stringify({ url: tokens.url, headers: {} }));
  agent = await startAgentProcess({
    FARM_SWARMING_SERVER: fake.url,
    FARM_TOKEN_CONFIG: tokenConfig,
    FARM_BOT_ID: BOT_ID,
    FARM_DEVICES: 'none',
    FARM_BOT_STOP_GRACE: '5s',
    TEST_POLL_S: '0.2',
  });
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

async function botPid(a: AgentProcess): Promise<number | undefined> {
  const status = (await a.getJson('/status')) as { swarming: { bots: { pid?: number }[] } };
  return status.swarming.bots[0]?.pid;
}

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
    process.kill(pid ?? 0, 'SIGKILL');
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
  });
});
