/**
 * The real bot_config.py shim, run by the real python3 inside a test bot zip,
 * against the real hook server on 127.0.0.1, a real token endpoint and the
 * real sudo shim.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  BotDeviceView,
  BotDevices,
  TaskEnd,
  TaskStart,
} from '../../bot-config/src/bot-devices.js';
import {
  createHookServer,
  HookMetrics,
  type HookServer,
} from '../../bot-config/src/hook-server.js';
import { BOT_CONFIG_PY } from '../../bot-config/src/paths.js';
import { buildTestBot } from '../rigs/test-bot.js';

const run = promisify(execFile);
const BOT = 'pi-7-usb-1-1.2';
const SUDO_SHIM = fileURLToPath(new URL('../../bot-config/shims/sudo', import.meta.url));

/** A phone that is asleep until `readyAt`, as the agent's wake-up would leave it. */
class SleepyPhone implements BotDevices {
  readyAt = 0;
  /**
   * When set, the task's start wakes the phone this long later: the sleep a test measures then
   * does not depend on how long the bot took to get there (Python's start and the hooks before).
   */
  wakeAfterStartMs: number | undefined;
  events: string[] = [];
  started: TaskStart[] = [];
  ended: TaskEnd[] = [];

  knows(botId: string): boolean {
    return botId === BOT;
  }
  async view(): Promise<BotDeviceView> {
    return {
      dimensions: { os: ['Android'], device_type: ['sargo'], android_devices: ['1'] },
      maintenance: 'battery 25% < 30%',
      ready: Date.now() >= this.readyAt,
    };
  }
  async whenReady(_botId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const wait = Math.max(0, this.readyAt - Date.now());
    if (wait > timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    return !signal?.aborted;
  }
  /** Not once the start wakes it later: whenReady would wait then. */
  readyNow(): boolean {
    return this.wakeAfterStartMs === undefined && Date.now() >= this.readyAt;
  }
  endsAtOnce(): boolean {
    return true;
  }
  startedAt = 0;

  async taskStarted(_botId: string, task: TaskStart): Promise<void> {
    this.startedAt = Date.now();
    if (this.wakeAfterStartMs !== undefined) this.readyAt = this.startedAt + this.wakeAfterStartMs;
    this.events.push('started');
    this.started.push(task);
  }
  async taskEnded(_botId: string, result: TaskEnd): Promise<void> {
    this.events.push('ended');
    this.ended.push(result);
  }
}

let dir: string;
let zip: string;
let tokenServer: Server;
const tokenRequests: (string | undefined)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hooks-e2e-'));
  zip = await buildTestBot(join(dir, 'swarming_bot.zip'));
  await mkdir(join(dir, 'bin'));
  await symlink(SUDO_SHIM, join(dir, 'bin', 'sudo'));
  tokenServer = createServer((req, res) => {
    tokenRequests.push(req.headers['metadata-flavor'] as string | undefined);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ access_token: 'ya29.test', expires_in: 3600, token_type: 'Bearer' }));
  });
  await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
  const { port } = tokenServer.address() as AddressInfo;
  await writeFile(
    join(dir, 'token.json'),
    JSON.stringify({
      url: `http://127.0.0.1:${port}/token`,
      headers: { 'Metadata-Flavor': 'Google' },
    }),
  );
});

afterAll(async () => {
  await new Promise((resolve) => tokenServer.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

interface Hooks {
  [hook: string]: unknown;
}

async function callHooks(env: Record<string, string>): Promise<{ hooks: Hooks; stderr: string }> {
  const { stdout, stderr } = await run('python3', [zip, 'call_hooks'], {
    cwd: dir,
    timeout: 25_000,
    env: {
      PATH: `${join(dir, 'bin')}:${process.env['PATH'] ?? ''}`,
      SWARMING_BOT_ID: BOT,
      FARM_TOKEN_CONFIG: join(dir, 'token.json'),
      TEST_TASK_ID: '6a1b2c3d4e5f6010',
      ...env,
    },
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  return { hooks: JSON.parse(last) as Hooks, stderr };
}

describe('bot_config.py through the hook server', () => {
  let app: HookServer;
  let phone: SleepyPhone;
  const reboots: { botId: string; argv: string[] }[] = [];

  beforeAll(async () => {
    phone = new SleepyPhone();
    app = createHookServer({
      devices: phone,
      botQuarantine: () => undefined,
      pool: 'android',
      settings: () => ({ caches: { isolated: { size: 8589934592 } } }),
      readyWaitMaxMs: 30_000,
      onRebootRequested: (botId, argv) => reboots.push({ botId, argv }),
      logger: pino({ level: 'silent' }),
      metrics: new HookMetrics(),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  function hookUrl(): string {
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }

  it('answers every hook with what the agent decided and records the task and reboot', async () => {
    phone.readyAt = Number.POSITIVE_INFINITY;
    phone.wakeAfterStartMs = 1500;
    const { hooks } = await callHooks({ FARM_HOOK_URL: hookUrl(), TEST_HOST_REBOOT: '1' });

    const dimensions = {
      id: [BOT],
      cores: [expect.any(String)],
      cpu: ['x86', 'x86-64'],
      gpu: ['none'],
      os: ['Android'],
      python: [expect.any(String)],
      device_type: ['sargo'],
      android_devices: ['1'],
      pool: ['android'],
    };
    // Before the bot knows its id (bot.id is 'unknown') the shim names it by SWARMING_BOT_ID.
    expect(hooks['startup_get_dimensions']).toStrictEqual(dimensions);
    expect(hooks['get_dimensions']).toStrictEqual(dimensions);
    expect(hooks['get_state']).toMatchObject({
      running_time: expect.any(Number),
      disks: { '/': { free_mb: 20000 } },
      maintenance: 'battery 25% < 30%',
    });
    expect(hooks['get_state']).not.toHaveProperty('quarantined');
    expect(hooks['get_settings']).toStrictEqual({ caches: { isolated: { size: 8589934592 } } });

    const [headers, expiry] = hooks['get_authentication_headers'] as [object, number];
    expect(headers).toStrictEqual({ Authorization: 'Bearer ya29.test' });
    expect(expiry).toBeGreaterThan(Date.now() / 1000 + 3500);
    expect(expiry).toBeLessThan(Date.now() / 1000 + 3601);
    expect(tokenRequests.at(-1)).toBe('Google');

    // on_before_task returned only once the phone woke up, and reported one start.
    expect(hooks['on_before_task']).toBeNull();
    const asleepFor = (phone.readyAt - phone.startedAt) / 1000;
    expect(hooks['on_before_task_s']).toBeGreaterThanOrEqual(asleepFor - 0.2);
    expect(phone.started).toStrictEqual([{ taskId: '6a1b2c3d4e5f6010' }]);
    // The driver calls on_after_task twice for the one task (positional, then keywords): the
    // second is the same task again, as a second config would report it, and counts once.
    expect(hooks['on_after_task_kwargs']).toBeNull();
    expect(phone.ended).toStrictEqual([{ failure: true, internalFailure: false }]);
    expect(phone.events).toStrictEqual(['started', 'ended']);

    for (const hook of ['on_bot_startup', 'on_bot_shutdown', 'on_before_poll', 'on_after_poll']) {
      expect(hooks[hook]).toBeNull();
    }
    expect(hooks['on_bot_idle']).toBeNull();
    expect(hooks['setup_bot']).toBe(true);

    // The bot's `sudo -n /sbin/shutdown -f -r now` reached the agent, and its caller was killed.
    expect(reboots).toStrictEqual([
      { botId: BOT, argv: ['-n', '/sbin/shutdown', '-f', '-r', 'now'] },
    ]);
    expect(hooks['host_reboot_exit']).toBe(-9);
  });

  it('on_before_task gives up at FARM_READY_TIMEOUT_S when the phone never wakes', async () => {
    phone.readyAt = Number.POSITIVE_INFINITY;
    phone.wakeAfterStartMs = undefined;
    phone.started = [];
    const { hooks, stderr } = await callHooks({
      FARM_HOOK_URL: hookUrl(),
      FARM_READY_TIMEOUT_S: '2',
    });
    expect(hooks['on_before_task']).toBeNull();
    expect(hooks['on_before_task_s']).toBeGreaterThanOrEqual(1.5);
    expect(hooks['on_before_task_s']).toBeLessThan(5);
    expect(phone.started).toHaveLength(1);
    expect(stderr).toContain('not ready in time');
  });

  it('starts and ends a task once when both the zip’s config and the bots.cfg script are the shim', async () => {
    phone.readyAt = 0;
    phone.wakeAfterStartMs = undefined;
    const [started, ended] = [phone.started.length, phone.ended.length];
    // The bot's _call_hook(chained=True): the zip's config/bot_config.py, then the injected one.
    const script = [
      'import importlib.util, sys',
      'def load(name):',
      '    spec = importlib.util.spec_from_file_location(name, sys.argv[1])',
      '    module = importlib.util.module_from_spec(spec)',
      '    spec.loader.exec_module(module)',
      '    return module',
      'configs = [load("bot_config"), load("injected")]',
      'env = {"SWARMING_TASK_ID": "7f00aa11bb22cc01"}',
      'for config in configs:',
      '    config.on_before_task(None, "/b/w/bot_file.json", ["python3", "run_isolated.py"], env)',
      'for config in configs:',
      '    config.on_after_task(None, False, False, {}, {})',
    ].join('\n');
    await run('python3', ['-c', script, BOT_CONFIG_PY], {
      timeout: 20_000,
      env: { PATH: process.env['PATH'] ?? '', SWARMING_BOT_ID: BOT, FARM_HOOK_URL: hookUrl() },
    });
    expect(phone.started.slice(started)).toStrictEqual([{ taskId: '7f00aa11bb22cc01' }]);
    expect(phone.ended.slice(ended)).toStrictEqual([{ failure: false, internalFailure: false }]);
  });

  it('with the agent gone, every hook still answers: the bot own values plus a quarantine reason', async () => {
    const url = hookUrl();
    await app.close();
    const { hooks, stderr } = await callHooks({ FARM_HOOK_URL: url, FARM_READY_TIMEOUT_S: '1' });
    const raised = Object.entries(hooks).filter(
      ([, result]) => typeof result === 'object' && result !== null && 'raised' in result,
    );
    expect(raised).toStrictEqual([]);
    const dims = hooks['get_dimensions'] as Record<string, string[]>;
    // The bot's own dimensions, not the agent's.
    expect(dims['os']).toStrictEqual(['Linux', 'Debian', 'Debian-12']);
    expect(dims['id']).toStrictEqual([BOT]);
    expect(dims['quarantined']).toHaveLength(1);
    expect(dims['quarantined']?.[0]).toMatch(/^farm-agent get_dimensions failed: .*refused/);
    const state = hooks['get_state'] as Record<string, unknown>;
    expect(state['running_time']).toEqual(expect.any(Number));
    expect(state['quarantined']).toMatch(/^farm-agent get_state failed: .*refused/);
    // No settings were ever seen by this process: the bot's defaults apply.
    expect(hooks['get_settings']).toStrictEqual({});
    expect(hooks['on_before_task']).toBeNull();
    expect(hooks['on_after_task']).toBeNull();
    expect(stderr).toContain('farm-agent on_after_task failed');
  });
});

describe('get_authentication_headers', () => {
  /**
   * Calls the hook `times` times in one fresh python3 with `config` as the
   * token config file (null: none); answers the last result.
   */
  async function authHeaders(config: object | string | null, times = 1): Promise<unknown> {
    const path = join(dir, `token-${Math.random()}.json`);
    if (config !== null) {
      await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config));
    }
    const script = [
      'import json, sys',
      'sys.path.insert(0, sys.argv[1])',
      'import bot_config',
      'for _ in range(int(sys.argv[2])): result = bot_config.get_authentication_headers(None)',
      'print(json.dumps(result))',
    ].join('\n');
    const botConfigDir = fileURLToPath(new URL('../../bot-config/python/', import.meta.url));
    const { stdout } = await run('python3', ['-c', script, botConfigDir, String(times)], {
      env: { PATH: process.env['PATH'] ?? '', FARM_TOKEN_CONFIG: path },
      timeout: 20_000,
    });
    return JSON.parse(stdout);
  }

  it.each([
    { name: 'a missing config file', config: null },
    { name: 'a config that is not JSON', config: '{url' },
    { name: 'an unreachable token url', config: { url: 'http://127.0.0.1:9/token' } },
  ])('answers ({}, 0) on $name, so the bot asks again on its next request', async ({ config }) => {
    expect(await authHeaders(config)).toStrictEqual([{}, 0]);
  });

  it('keeps answering the last token while it is valid when a refresh fails', async () => {
    let served = 0;
    const flaky = createServer((_req, res) => {
      served += 1;
      if (served > 1) {
        res.statusCode = 500;
        res.end('metadata server hiccup');
        return;
      }
      res.end(JSON.stringify({ access_token: 'first', expires_in: 600 }));
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = flaky.address() as AddressInfo;
      const [headers, expiry] = (await authHeaders({ url: `http://127.0.0.1:${port}/` }, 2)) as [
        object,
        number,
      ];
      expect(served).toBe(2);
      expect(headers).toStrictEqual({ Authorization: 'Bearer first' });
      expect(expiry).toBeGreaterThan(Date.now() / 1000 + 590);
    } finally {
      await new Promise((resolve) => flaky.close(resolve));
    }
  });

  it('answers ({}, 0) when the token endpoint answers garbage', async () => {
    const bad = createServer((_req, res) => res.end(JSON.stringify({ expires_in: 'soon' })));
    await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = bad.address() as AddressInfo;
      expect(await authHeaders({ url: `http://127.0.0.1:${port}/` })).toStrictEqual([{}, 0]);
    } finally {
      await new Promise((resolve) => bad.close(resolve));
    }
  });
});
