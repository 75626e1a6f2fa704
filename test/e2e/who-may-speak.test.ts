/**
 * Issue 11 item 8 on the real program: the agent runs the (test) bot as an
 * unprivileged user; the bot's own hooks work through bot_config.py, while
 * another local process speaking for the bot, or running operator commands
 * without the credential, is refused. The CLI, run as root, still works.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentProcess, type AgentProcess } from '../rigs/agent-process.js';
import { startFakeSwarming, type FakeSwarming } from '../rigs/fake-swarming.js';
import { buildTestBot } from '../rigs/test-bot.js';
import { startTokenServer, type TokenServer } from '../rigs/token-server.js';

const run = promisify(execFile);
const TOKEN = 'ya29.who-may-speak';
const BOT_ID = 'skia-rpi2-authz';

describe.runIf(process.getuid?.() === 0)('who may speak for whom (agent as root)', () => {
  let swarming: FakeSwarming;
  let tokens: TokenServer;
  let agent: AgentProcess;
  let stateDir: string;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'who-may-speak-'));
    swarming = await startFakeSwarming({
      zip: await readFile(await buildTestBot(join(dir, 'swarming_bot.zip'))),
      token: TOKEN,
    });
    tokens = await startTokenServer(() => ({
      body: { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' },
    }));
    const tokenConfig = join(dir, 'token.json');
    await writeFile(tokenConfig, JSON.stringify({ url: tokens.url, headers: {} }));
    // As /var/lib/farm-agent in the image: others may pass through to their own directory.
    stateDir = join(dir, 'state');
    await chmod(dir, 0o755);
    agent = await startAgentProcess({
      FARM_SWARMING_SERVER: swarming.url,
      FARM_TOKEN_CONFIG: tokenConfig,
      FARM_BOT_ID: BOT_ID,
      FARM_DEVICES: 'none',
      FARM_BOT_USER: 'nobody',
      FARM_STATE_DIR: stateDir,
      TEST_POLL_S: '0.2',
    });
    await agent.waitForLog(
      (l) => l.stream === 'stdout' && typeof l.msg === 'string' && l.msg.startsWith('poll '),
      30_000,
    );
  }, 60_000);
  afterAll(async () => {
    await agent?.stop('SIGTERM');
    await swarming?.close();
    await tokens?.close();
  });

  const cli = (...args: string[]) =>
    run(process.execPath, ['agent/bin/farm-agent.js', ...args], {
      env: {
        ...process.env,
        FARM_HTTP_PORT: new URL(agent.httpUrl).port,
        FARM_HOOK_PORT: new URL(agent.hookUrl).port,
        FARM_STATE_DIR: stateDir,
      },
    });

  it('runs the bot as the bot user, and its hooks through bot_config.py are answered', async () => {
    const { swarming: host } = (await agent.getJson('/status')) as {
      swarming: { bots: { pid: number }[] };
    };
    const pid = host.bots[0]?.pid;
    const uid = /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
    expect(uid).toBe('65534');
    // Non-dumpable (FARM_BOT_PRIVATE): the kernel hands its /proc files to root.
    expect((await stat(`/proc/${pid}/environ`)).uid).toBe(0);
    const poll = agent.logs.findLast(
      (l) => l.stream === 'stdout' && typeof l.msg === 'string' && l.msg.startsWith('poll '),
    );
    const { state, dimensions } = JSON.parse(String(poll?.msg).slice(5)) as Record<
      string,
      Record<string, unknown>
    >;
    expect(dimensions).toMatchObject({ id: [BOT_ID] });
    expect(dimensions).not.toHaveProperty('quarantined');
    expect(state).not.toHaveProperty('quarantined');
  });

  it('refuses another process speaking for the bot', async () => {
    for (const hook of ['get_state', 'on_before_task', 'on_after_task']) {
      const response = await fetch(`${agent.hookUrl}/${hook}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-farm-bot-id': BOT_ID },
        body: JSON.stringify({ failure: false, internal_failure: false }),
      });
      expect(response.status, hook).toBe(403);
      expect(((await response.json()) as { error: string }).error).toContain(
        `is not bot ${BOT_ID}'s process`,
      );
    }
  });

  it('refuses operator commands without the credential, and takes them from the CLI', async () => {
    const anyone = await fetch(`${agent.httpUrl}/operator/override`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'maintenance', reason: 'not yours' }),
    });
    expect(anyone.status).toBe(401);
    const { stdout } = await cli('maintenance', '--reason', 'rewiring');
    expect(JSON.parse(stdout)).toEqual({ host: { maintenance: 'rewiring' } });
    await cli('maintenance', '--clear');
  });

  it('lets the operator preview the hooks with `farm-agent dims`', async () => {
    const { stdout } = await cli('dims');
    expect(JSON.parse(stdout)).toMatchObject({ [BOT_ID]: { dimensions: { id: [BOT_ID] } } });
  });
});
