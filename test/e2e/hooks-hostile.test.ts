import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operatorAuthorization } from '../../agent/src/operator/credential.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentProcess, type AgentProcess, type LogLine } from '../rigs/agent-process.js';
import { startFakeSwarming, type FakeSwarming } from '../rigs/fake-swarming.js';
import { buildTestBot } from '../rigs/test-bot.js';
import { startTokenServer, type TokenServer } from '../rigs/token-server.js';

/**
 * Hostile hook calls against the real agent while its (test) Swarming bot
 * runs: each is a 4xx with a reason, none reaches /status (which the bot's
 * last exchanges feed), and invented bot ids leave nothing behind.
 *
 * Only the bot's own process gets its body read; so that the body guards run
 * here, the calls carry the operator credential, which may preview get_state
 * and get_dimensions (as `farm-agent dims` does) and nothing else.
 */
const TOKEN = 'ya29.hostile-e2e-token';
const BOT_ID = 'skia-rpi2-hostile';

let swarming: FakeSwarming;
let tokens: TokenServer;
let agent: AgentProcess;
let authorization: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'e2e-hostile-'));
  const zip = await readFile(await buildTestBot(join(dir, 'swarming_bot.zip')));
  swarming = await startFakeSwarming({ zip, token: TOKEN });
  tokens = await startTokenServer(() => ({
    body: { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' },
  }));
  const tokenConfig = join(dir, 'token.json');
  await writeFile(tokenConfig, JSON.stringify({ url: tokens.url, headers: {} }));
  agent = await startAgentProcess({
    FARM_SWARMING_SERVER: swarming.url,
    FARM_TOKEN_CONFIG: tokenConfig,
    FARM_BOT_ID: BOT_ID,
    FARM_DEVICES: 'none',
    FARM_BOT_STOP_GRACE: '3s',
    TEST_POLL_S: '0.2',
  });
  await agent.waitForLog(
    (l: LogLine) => l.stream === 'stdout' && String(l.msg).startsWith('poll '),
    20_000,
  );
  authorization = (await operatorAuthorization(join(agent.stateDir, 'operator-credential'))) ?? '';
});

afterAll(async () => {
  await agent?.stop('SIGKILL');
  await swarming?.close();
  await tokens?.close();
});

interface Status {
  swarming: { bots: { botId: string; lastAnswered: Record<string, { botOwn: unknown }> }[] };
}

async function hook(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${agent.hookUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-farm-bot-id': BOT_ID,
      authorization,
      ...headers,
    },
    body,
  });
  return { status: res.status, error: ((await res.json()) as { error?: string }).error };
}

const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('hostile hook calls', () => {
  it.each([
    ['get_state nested 5,000 deep', '/get_state', nested(5000), {}, 400, 'nests deeper than 32'],
    [
      'get_dimensions nested 5,000 deep',
      '/get_dimensions',
      `{"os":${nested(5000)}}`,
      {},
      400,
      'nests deeper',
    ],
    [
      'get_state of 300 KB',
      '/get_state',
      JSON.stringify({ env: 'x'.repeat(300_000) }),
      {},
      413,
      'too large',
    ],
    ['get_state that is not JSON', '/get_state', '{"running_time": ', {}, 400, 'JSON'],
    [
      'get_state as text/plain',
      '/get_state',
      '{}',
      { 'content-type': 'text/plain' },
      415,
      'Unsupported Media Type',
    ],
    [
      'get_dimensions of wrong types',
      '/get_dimensions',
      '{"os": "Linux"}',
      {},
      400,
      'body/os must be array',
    ],
    [
      'on_after_task of wrong types, not from the bot (the operator only previews)',
      '/on_after_task',
      '{"failure": "yes", "internal_failure": false}',
      {},
      403,
      `is not bot ${BOT_ID}'s process`,
    ],
    [
      'on_before_task for an unknown bot',
      '/on_before_task',
      '{}',
      { 'x-farm-bot-id': 'ghost' },
      404,
      'no bot "ghost"',
    ],
    [
      'on_after_task for an unknown bot',
      '/on_after_task',
      '{"failure": false, "internal_failure": false}',
      { 'x-farm-bot-id': 'ghost' },
      404,
      'no bot "ghost"',
    ],
    [
      'a 257-character bot id',
      '/get_dimensions',
      '{}',
      { 'x-farm-bot-id': 'b'.repeat(257) },
      400,
      'must NOT have more than 256 characters',
    ],
  ])(
    '%s is refused with a reason, and /status stays 200',
    async (_what, path, body, headers, status, error) => {
      expect(await hook(path, body, headers)).toEqual({
        status,
        error: expect.stringContaining(error),
      });
      const res = await fetch(`${agent.httpUrl}/status`);
      expect(res.status).toBe(200);
      const { swarming: s } = (await res.json()) as Status;
      // The bot's own answers are still what /status shows.
      expect(s.bots.map((b) => b.botId)).toEqual([BOT_ID]);
      expect(JSON.stringify(s.bots[0]?.lastAnswered)).not.toContain('"a":{"a"');
    },
  );

  it('2,000 invented bot ids add no records and no metric labels', async () => {
    const before = await fetch(`${agent.httpUrl}/metrics`).then((r) => r.text());
    const statusBefore = (await agent.getJson('/status')) as Status;
    const codes = new Map<number, number>();
    const body = JSON.stringify({ running_time: 1, env: 'x'.repeat(10_000) });
    for (let i = 0; i < 2000; i++) {
      const [path, payload] =
        i % 2 === 0 ? ['/get_state', body] : ['/reboot_requested', '{"argv": ["reboot"]}'];
      const { status } = await hook(path, payload, { 'x-farm-bot-id': `invented-${i}` });
      codes.set(status, (codes.get(status) ?? 0) + 1);
    }
    expect([...codes]).toEqual([[404, 2000]]);

    const after = await fetch(`${agent.httpUrl}/metrics`).then((r) => r.text());
    const series = (text: string) => text.split('\n').filter((l) => /^farm_[a-z_]+\{/.test(l));
    const invented = series(after).filter((l) => l.includes('invented-'));
    expect(invented).toEqual([]);
    expect(after).not.toMatch(/^farm_reboot_requests_total\{/m);
    // Only the per-code count of refusals is new: labels are hook and code, never the id.
    // Node's own runtime series come and go with what the process happens to be doing: active
    // handles by type, and GC durations by kind (a kind's labels appear at its first collection).
    const runtime = /^farm_nodejs_(active_\w+|gc_duration_seconds_\w+)\{/;
    const added = series(after).filter(
      (l) => !runtime.test(l) && !series(before).some((b) => b.split(' ')[0] === l.split(' ')[0]),
    );
    // Listed, not just counted, so a failure names the series.
    expect(
      added.filter((l) => !/^farm_hook_(requests_total|duration_seconds_\w+)\{/.test(l)),
    ).toEqual([]);
    expect(added.length).toBeLessThan(30);

    const statusAfter = (await agent.getJson('/status')) as Status;
    expect(statusAfter.swarming.bots.map((b) => b.botId)).toEqual(
      statusBefore.swarming.bots.map((b) => b.botId),
    );
    expect(JSON.stringify(statusAfter)).not.toContain('invented-');
  });
});
