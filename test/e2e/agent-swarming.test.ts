import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgentProcess, type AgentProcess, type LogLine } from '../rigs/agent-process.js';
import { startFakeSwarming, type FakeSwarming } from '../rigs/fake-swarming.js';
import { buildTestBot } from '../rigs/test-bot.js';
import { startTokenServer, type TokenServer } from '../rigs/token-server.js';

/**
 * The whole of issue 2 in one place: the real farm-agent program downloads
 * the (test) bot from a fake Swarming server with a token from a fake metadata
 * server, runs it under real python3, answers its hooks through the real
 * bot_config.py, and stops it cleanly.
 */
const TOKEN = 'ya29.e2e-secret-token';
const BOT_ID = 'skia-rpi2-e2e';

let zip: Buffer;
let swarming: FakeSwarming;
let tokens: TokenServer;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'e2e-bot-'));
  zip = await readFile(await buildTestBot(join(dir, 'swarming_bot.zip')));
});

afterEach(async () => {
  await agent?.stop('SIGKILL');
  agent = undefined;
  await swarming?.close();
  await tokens?.close();
});

async function startAll(extraEnv: Record<string, string> = {}): Promise<AgentProcess> {
  swarming = await startFakeSwarming({ zip, token: TOKEN });
  tokens = await startTokenServer(() => ({
    body: { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' },
  }));
  const dir = await mkdtemp(join(tmpdir(), 'e2e-token-'));
  const tokenConfig = join(dir, 'token.json');
  await writeFile(
    tokenConfig,
    JSON.stringify({ url: tokens.url, headers: { 'Metadata-Flavor': 'Google' } }),
  );
  agent = await startAgentProcess({
    FARM_SWARMING_SERVER: swarming.url,
    FARM_TOKEN_CONFIG: tokenConfig,
    FARM_BOT_ID: BOT_ID,
    FARM_DEVICES: 'none',
    FARM_BOT_STOP_GRACE: '5s',
    TEST_POLL_S: '0.2',
    ...extraEnv,
  });
  return agent;
}

const botSaid = (prefix: string) => (line: LogLine) =>
  line.stream === 'stdout' && typeof line.msg === 'string' && line.msg.startsWith(prefix);

describe('farm-agent hosting a Swarming bot', () => {
  it('downloads the bot, runs it and answers every hook through bot_config.py', async () => {
    const a = await startAll({ FARM_POOL: 'Skia' });
    const up = await a.waitForLog(botSaid('test bot up'));
    expect(up.msg).toBe(`test bot up ${BOT_ID} 1`);
    expect(up.bot).toBe(BOT_ID);

    // The download went through the redirect with the bearer token and the bot id on both hops.
    expect(swarming.requests.map((r) => r.path.split('?')[0])).toEqual([
      '/bot_code',
      expect.stringMatching(/^\/swarming\/api\/v1\/bot\/bot_code\/[0-9a-f]{64}$/),
    ]);
    for (const request of swarming.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    }

    const hooksLine = await a.waitForLog(
      (l) => l.stream === 'stdout' && typeof l.msg === 'string' && l.msg.startsWith('{'),
    );
    const hooks = JSON.parse(String(hooksLine.msg)) as Record<string, unknown>;
    // FARM_POOL replaces the `default` pool the bot reports, as the real bot always does.
    expect(hooks.get_dimensions).toMatchObject({ id: [BOT_ID], pool: ['Skia'] });
    expect(hooks.get_dimensions).not.toHaveProperty('quarantined');
    expect(hooks.get_state).toMatchObject({ running_time: expect.any(Number) });
    expect(hooks.get_state).not.toHaveProperty('quarantined');
    // The bot's disk floor is the agent's (FARM_HOST_DISK_MIN_PERCENT/FREE), not its ~4 GiB default.
    expect(hooks.get_settings).toMatchObject({
      free_partition: {
        root: { size: 500 * 1024 * 1024, max_percent: 0, min_percent: 5 },
        bot: { size: 500 * 1024 * 1024, max_percent: 0, min_percent: 5 },
      },
      caches: { isolated: { size: expect.any(Number) } },
    });
    expect(hooks.get_authentication_headers).toEqual([
      { Authorization: createHash('sha256').update(`Bearer ${TOKEN}`).digest('hex') },
      expect.any(Number),
    ]);
    expect(hooks.on_before_task).toBeNull();

    // The token never reaches the agent's log.
    expect(JSON.stringify(a.logs)).not.toContain(TOKEN);

    const status = (await a.getJson('/status')) as {
      swarming: { bots: { botId: string; running: boolean; pid: number }[] };
    };
    expect(status.swarming.bots).toEqual([
      expect.objectContaining({ botId: BOT_ID, running: true, pid: expect.any(Number) }),
    ]);
    const metrics = await (await fetch(`${a.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`farm_bot_up\\{bot="${BOT_ID}"\\} 1`));
    expect(metrics).toContain('farm_hook_requests_total');
  });

  it('without FARM_POOL leaves the bot its own pool, and hands it FARM_READY_TIMEOUT_S', async () => {
    const a = await startAll({ FARM_READY_TIMEOUT: '2m' });
    const hooksLine = await a.waitForLog(
      (l) => l.stream === 'stdout' && typeof l.msg === 'string' && l.msg.startsWith('{'),
    );
    const hooks = JSON.parse(String(hooksLine.msg)) as Record<string, unknown>;
    expect(hooks.get_dimensions).toMatchObject({ id: [BOT_ID], pool: ['default'] });

    // The shim reads FARM_READY_TIMEOUT_S (hooks-through-python tests that it obeys it): it
    // must be in the environment of the bot process itself.
    const status = (await a.getJson('/status')) as { swarming: { bots: { pid: number }[] } };
    const pid = status.swarming.bots[0]?.pid;
    const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
    expect(environ).toContain('FARM_READY_TIMEOUT_S=120');
  });

  it('forwards SIGTERM to the bot and exits cleanly', async () => {
    const a = await startAll();
    await a.waitForLog(botSaid('poll '));
    expect(await a.stop('SIGTERM')).toBe(0);
    expect(a.logs.some(botSaid('test bot got SIGTERM'))).toBe(true);
    expect(a.logs.some((l) => l.msg === 'stopped')).toBe(true);
  });

  it('keeps serving hooks and health while the Swarming server fails', async () => {
    swarming = await startFakeSwarming({ zip, token: TOKEN });
    swarming.mode = 'error500';
    tokens = await startTokenServer(() => ({
      body: { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' },
    }));
    const dir = await mkdtemp(join(tmpdir(), 'e2e-token-'));
    const tokenConfig = join(dir, 'token.json');
    await writeFile(tokenConfig, JSON.stringify({ url: tokens.url, headers: {} }));
    agent = await startAgentProcess({
      FARM_SWARMING_SERVER: swarming.url,
      FARM_TOKEN_CONFIG: tokenConfig,
      FARM_BOT_ID: BOT_ID,
      FARM_DEVICES: 'none',
    });
    await agent.waitForLog((l) => l.msg === 'bot code download failed');
    expect(await agent.getJson('/healthz')).toEqual({ ok: true });
    expect(swarming.requests.length).toBeGreaterThan(0);
    swarming.mode = 'ok';
    await agent.waitForLog(botSaid('test bot up'), 20_000);
  });
});

describe('farm-agent with no Swarming server and no cluster', () => {
  it('serves health, hooks and metrics, and says what is disabled', async () => {
    agent = await startAgentProcess({ FARM_BOT_ID: BOT_ID, FARM_DEVICES: 'none' });
    const disabled = agent.logs.filter((l) => typeof l.msg === 'string' && /disabled/.test(l.msg));
    expect(disabled.map((l) => l.msg)).toContain(
      'swarming disabled: FARM_SWARMING_SERVER is not set: no Swarming bot is run',
    );
    expect(await agent.getJson('/healthz')).toEqual({ ok: true });
    const hook = await fetch(`${agent.hookUrl}/get_dimensions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-farm-bot-id': BOT_ID },
      body: JSON.stringify({ id: ['other'], os: ['Linux'] }),
    });
    // No FARM_POOL: no pool is made up; the bot's own (here none) stays.
    expect(await hook.json()).toEqual({ id: [BOT_ID], os: ['Linux'] });
    const metrics = await fetch(`${agent.httpUrl}/metrics`);
    expect(await metrics.text()).toContain('farm_process_resident_memory_bytes');
  });

  it('refuses to start on a wrong setting, naming it', async () => {
    await expect(startAgentProcess({ FARM_HOOK_PORT: 'eleven' })).rejects.toThrow(
      'FARM_HOOK_PORT="eleven": expected a TCP port',
    );
  });
});
