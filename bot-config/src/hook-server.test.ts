import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { injectHook } from '../../test/rigs/hook-inject.js';
import type { BotDeviceView, BotDevices, TaskEnd, TaskStart } from './bot-devices.js';
import {
  createHookServer,
  HookMetrics,
  type HookExchange,
  type HookServer,
  type HookServerOptions,
} from './hook-server.js';

const BOT = 'pi-1-usb-1-1.3';
const headers = { 'x-farm-bot-id': BOT };

/** BotDevices that answers from fields the test sets and records what it was told. */
class RecordingBotDevices implements BotDevices {
  view_: BotDeviceView | Error | 'hang' = { dimensions: {}, ready: true };
  ready = true;
  started: { botId: string; task: TaskStart }[] = [];
  ended: { botId: string; result: TaskEnd }[] = [];
  waits: { botId: string; timeoutMs: number; signal?: AbortSignal }[] = [];
  /** When set, whenReady waits for the signal instead of answering. */
  holdWaits = false;
  failStart = false;
  /** What readyNow answers: false keeps every call on the wait. */
  readyAtOnce = false;
  /** When set, taskStarted records the start once this settles. */
  startGate: Promise<void> | undefined;
  /** What endsAtOnce answers: false keeps every end before its answer. */
  endAtOnce = false;
  /** When set, taskEnded records the end once this settles. */
  endGate: Promise<void> | undefined;
  failEnd = false;

  /** Every bot the test names, unless it empties this. */
  known = new Set([BOT]);
  knows(botId: string): boolean {
    return this.known.has(botId);
  }
  async view(): Promise<BotDeviceView> {
    if (this.view_ === 'hang') return new Promise(() => undefined);
    if (this.view_ instanceof Error) throw this.view_;
    return this.view_;
  }
  async whenReady(botId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    this.waits.push({ botId, timeoutMs, signal });
    if (!this.holdWaits) return this.ready;
    return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(false)));
  }
  readyNow(): boolean {
    return this.readyAtOnce;
  }
  async taskStarted(botId: string, task: TaskStart): Promise<void> {
    await this.startGate;
    if (this.failStart) throw new Error('device layer broke');
    this.started.push({ botId, task });
  }
  endsAtOnce(): boolean {
    return this.endAtOnce;
  }
  async taskEnded(botId: string, result: TaskEnd): Promise<void> {
    await this.endGate;
    if (this.failEnd) throw new Error('device layer broke at the end');
    this.ended.push({ botId, result });
  }
}

interface Rig {
  app: HookServer;
  devices: RecordingBotDevices;
  metrics: HookMetrics;
  reboots: { botId: string; argv: string[] }[];
  supervisor: Map<string, string>;
}

let current: Rig | undefined;
afterEach(async () => {
  await current?.app.close();
  current = undefined;
});

function rig(overrides: Partial<HookServerOptions> = {}): Rig {
  const devices = new RecordingBotDevices();
  const metrics = new HookMetrics();
  const reboots: Rig['reboots'] = [];
  const supervisor = new Map<string, string>();
  const app = createHookServer({
    devices,
    botQuarantine: (botId) => supervisor.get(botId),
    pool: 'android',
    settings: () => ({ caches: { isolated: { size: 8589934592 } } }),
    readyWaitMaxMs: 1000,
    onRebootRequested: (botId, argv) => reboots.push({ botId, argv }),
    logger: pino({ level: 'silent' }),
    metrics,
    ...overrides,
  });
  current = { app, devices, metrics, reboots, supervisor };
  return current;
}

const ownState = {
  running_time: 42,
  sleep_streak: 3,
  cwd: '/b',
  quarantined: 'old',
  maintenance: 1,
};
const ownDims = { id: [BOT], os: ['Linux'], cores: ['4'] };

describe('get_dimensions', () => {
  it('replaces the keys the device owns and forces id and pool', async () => {
    const { app, devices } = rig();
    devices.view_ = {
      dimensions: { os: ['Android'], device_type: ['sargo', ' sargo'] },
      ready: true,
    };
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_dimensions',
      headers,
      payload: ownDims,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toStrictEqual({
      id: [BOT],
      os: ['Android'],
      cores: ['4'],
      device_type: ['sargo'],
      pool: ['android'],
    });
  });

  it('reports each answer with the bot values it was built from', async () => {
    const exchanges: HookExchange[] = [];
    const { app, devices } = rig({ onAnswered: (e) => exchanges.push(e) });
    devices.view_ = { dimensions: { os: ['Android'] }, maintenance: 'charging', ready: false };
    await injectHook(app, { method: 'POST', url: '/get_dimensions', headers, payload: ownDims });
    await injectHook(app, { method: 'POST', url: '/get_state', headers, payload: ownState });
    expect(exchanges).toEqual([
      {
        hook: 'get_dimensions',
        botId: BOT,
        botOwn: ownDims,
        answer: { id: [BOT], os: ['Android'], cores: ['4'], pool: ['android'] },
      },
      {
        hook: 'get_state',
        botId: BOT,
        botOwn: ownState,
        answer: { running_time: 42, sleep_streak: 3, cwd: '/b', maintenance: 'charging' },
      },
    ]);
  });

  it('answers a GET without a body as if the bot had no dimensions of its own', async () => {
    const { app } = rig();
    const res = await injectHook(app, { method: 'GET', url: '/get_dimensions', headers });
    expect(res.json()).toStrictEqual({ id: [BOT], pool: ['android'] });
  });

  it('adds quarantined from the supervisor and the device view, next to the device own', async () => {
    const { app, devices, supervisor } = rig();
    supervisor.set(BOT, 'crash loop');
    devices.view_ = {
      dimensions: { quarantined: ['Device "sargo" has gone missing'] },
      quarantined: 'battery unreadable',
      ready: false,
    };
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_dimensions',
      headers,
      payload: ownDims,
    });
    expect(res.json().quarantined).toStrictEqual([
      'Device "sargo" has gone missing',
      'crash loop; battery unreadable',
    ]);
  });

  it('shortens a long quarantine reason so the dimension stays valid', async () => {
    const { app, supervisor } = rig();
    supervisor.set(BOT, 'r'.repeat(1000));
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_dimensions',
      headers,
      payload: ownDims,
    });
    const [value] = res.json().quarantined as string[];
    expect([...(value ?? '')]).toHaveLength(256);
    expect(value?.endsWith('…')).toBe(true);
  });

  it('answers the bot own dimensions plus a quarantine reason when devices cannot be read', async () => {
    const { app, devices } = rig();
    devices.view_ = new Error('adb server is down');
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_dimensions',
      headers,
      payload: ownDims,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toStrictEqual({
      ...ownDims,
      pool: ['android'],
      quarantined: ['farm-agent cannot read devices: adb server is down'],
    });
  });

  it('does not wait for a device view that never answers', async () => {
    const { app, devices } = rig();
    devices.view_ = 'hang';
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_dimensions',
      headers,
      payload: ownDims,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().quarantined).toStrictEqual([
      'farm-agent cannot read devices: no answer within 4000 ms',
    ]);
  });
});

describe('get_state', () => {
  it('keeps the bot keys and replaces quarantined and maintenance with the agent reasons', async () => {
    const { app, devices, supervisor } = rig();
    supervisor.set(BOT, 'crash loop');
    devices.view_ = { dimensions: {}, maintenance: 'battery 12% < 30%', ready: false };
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_state',
      headers,
      payload: ownState,
    });
    expect(res.json()).toStrictEqual({
      running_time: 42,
      sleep_streak: 3,
      cwd: '/b',
      quarantined: 'crash loop',
      maintenance: 'battery 12% < 30%',
    });
  });

  it('drops the bot own quarantine when the agent has none', async () => {
    const { app } = rig();
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_state',
      headers,
      payload: ownState,
    });
    expect(res.json()).toStrictEqual({ running_time: 42, sleep_streak: 3, cwd: '/b' });
  });

  it('quarantines with the reason when devices cannot be read, never a 5xx', async () => {
    const { app, devices, supervisor } = rig();
    supervisor.set(BOT, 'crash loop');
    devices.view_ = new Error('adb server is down');
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_state',
      headers,
      payload: ownState,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toStrictEqual({
      running_time: 42,
      sleep_streak: 3,
      cwd: '/b',
      quarantined: 'crash loop; farm-agent cannot read devices: adb server is down',
    });
  });
});

describe('get_settings and healthz', () => {
  it.each(['GET', 'POST'] as const)('answers the settings to %s', async (method) => {
    const { app } = rig();
    const res = await injectHook(app, { method, url: '/get_settings' });
    expect(res.json()).toStrictEqual({ caches: { isolated: { size: 8589934592 } } });
  });

  it('healthz is ok', async () => {
    const { app } = rig();
    const res = await injectHook(app, { method: 'GET', url: '/healthz' });
    expect([res.statusCode, res.json()]).toStrictEqual([200, { ok: true }]);
  });
});

describe('on_before_task and on_after_task', () => {
  it('reports the start once per call id and waits at most readyWaitMaxMs', async () => {
    const { app, devices } = rig();
    const call = { task_id: 'abc123', call_id: 'c1', wait_ms: 60_000 };
    for (const payload of [call, call, { ...call, wait_ms: 250 }]) {
      const res = await injectHook(app, {
        method: 'POST',
        url: '/on_before_task',
        headers,
        payload,
      });
      expect(res.json()).toStrictEqual({ ready: true });
    }
    expect(devices.started).toStrictEqual([{ botId: BOT, task: { taskId: 'abc123' } }]);
    expect(devices.waits.map((w) => w.timeoutMs)).toStrictEqual([1000, 1000, 250]);
  });

  it('answers ready false when the device is not ready in time', async () => {
    const { app, devices } = rig();
    devices.ready = false;
    const res = await injectHook(app, { method: 'GET', url: '/on_before_task', headers });
    expect(res.json()).toStrictEqual({ ready: false });
    expect(devices.started).toStrictEqual([{ botId: BOT, task: {} }]);
    expect(devices.waits[0]?.timeoutMs).toBe(1000);
  });

  it('a call without ids is always a new start', async () => {
    const { app, devices } = rig();
    await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload: {} });
    await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload: {} });
    expect(devices.started).toHaveLength(2);
  });

  it('reports the end, after which the same task id starts again', async () => {
    const { app, devices } = rig();
    const before = { task_id: 't1' };
    await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload: before });
    const res = await injectHook(app, {
      method: 'POST',
      url: '/on_after_task',
      headers,
      payload: { failure: true, internal_failure: false },
    });
    expect(res.json()).toStrictEqual({ ok: true });
    expect(devices.ended).toStrictEqual([
      { botId: BOT, result: { failure: true, internalFailure: false } },
    ]);
    await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload: before });
    expect(devices.started).toHaveLength(2);
  });

  it('a failed start is a 500 with the reason, and the retry reports the start again', async () => {
    const { app, devices } = rig();
    devices.failStart = true;
    const payload = { call_id: 'c9' };
    const res = await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload });
    expect([res.statusCode, res.json()]).toStrictEqual([500, { error: 'device layer broke' }]);
    devices.failStart = false;
    await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload });
    expect(devices.started).toHaveLength(1);
  });

  it('answers a device ready now before reporting the start, then waits no longer', async () => {
    const { app, devices } = rig();
    devices.readyAtOnce = true;
    let reportStart = (): void => undefined;
    devices.startGate = new Promise((resolve) => (reportStart = resolve));
    const payload = { task_id: 't1', call_id: 'c1', wait_ms: 60_000 };
    const res = await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload });
    expect(res.json()).toStrictEqual({ ready: true });
    expect(devices.started).toStrictEqual([]);
    reportStart();
    await vi.waitFor(() => expect(devices.waits.map((w) => w.timeoutMs)).toStrictEqual([0]));
    expect(devices.started).toStrictEqual([{ botId: BOT, task: { taskId: 't1' } }]);
    // A repeat of the call is no new start: it asks, as always, through the wait.
    await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload });
    expect(devices.started).toHaveLength(1);
    expect(devices.waits.map((w) => w.timeoutMs)).toStrictEqual([0, 1000]);
  });

  it('a start failing after a ready answer is logged, and the retry reports the start again', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const { app, devices } = rig({ logger });
    devices.readyAtOnce = true;
    devices.failStart = true;
    const payload = { call_id: 'c9' };
    const res = await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload });
    expect([res.statusCode, res.json()]).toStrictEqual([200, { ready: true }]);
    await vi.waitFor(() => expect(lines.join('')).toContain('device layer broke'));
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      botId: BOT,
      msg: 'task start failed after ready',
    });
    devices.failStart = false;
    await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload });
    await vi.waitFor(() => expect(devices.started).toHaveLength(1));
  });

  it('answers an end with nothing to wait for before reporting it', async () => {
    const { app, devices } = rig();
    devices.endAtOnce = true;
    let reportEnd = (): void => undefined;
    devices.endGate = new Promise((resolve) => (reportEnd = resolve));
    const payload = { failure: false, internal_failure: true, task_id: 't1' };
    const res = await injectHook(app, { method: 'POST', url: '/on_after_task', headers, payload });
    expect(res.json()).toStrictEqual({ ok: true });
    expect(devices.ended).toStrictEqual([]);
    reportEnd();
    await vi.waitFor(() =>
      expect(devices.ended).toStrictEqual([
        { botId: BOT, result: { failure: false, internalFailure: true } },
      ]),
    );
  });

  it('an end failing is a 500 before its answer, and logged after it', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const { app, devices } = rig({ logger });
    devices.failEnd = true;
    const payload = { failure: false, internal_failure: false };
    const before = await injectHook(app, {
      method: 'POST',
      url: '/on_after_task',
      headers,
      payload,
    });
    expect(before.statusCode).toBe(500);
    devices.endAtOnce = true;
    const after = await injectHook(app, {
      method: 'POST',
      url: '/on_after_task',
      headers,
      payload,
    });
    expect([after.statusCode, after.json()]).toStrictEqual([200, { ok: true }]);
    await vi.waitFor(() => expect(lines.join('')).toContain('task end failed after ok'));
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({
      botId: BOT,
      err: { message: 'device layer broke at the end' },
    });
  });

  it('starts and ends a task once when two configs report the same task id', async () => {
    const { app, devices } = rig();
    const before = { task_id: 't1' };
    for (const call_id of ['global', 'injected']) {
      const payload = { ...before, call_id };
      await injectHook(app, { method: 'POST', url: '/on_before_task', headers, payload });
    }
    const after = { failure: false, internal_failure: false, task_id: 't1' };
    const answers = [];
    for (let i = 0; i < 2; i++) {
      const res = await injectHook(app, {
        method: 'POST',
        url: '/on_after_task',
        headers,
        payload: after,
      });
      answers.push(res.json());
    }
    expect(answers).toStrictEqual([{ ok: true }, { ok: true, duplicate: true }]);
    expect(devices.started).toHaveLength(1);
    expect(devices.ended).toHaveLength(1);
    // The next task (even under a reused id) counts again.
    await injectHook(app, {
      method: 'POST',
      url: '/on_before_task',
      headers,
      payload: { task_id: 't1' },
    });
    await injectHook(app, { method: 'POST', url: '/on_after_task', headers, payload: after });
    expect([devices.started.length, devices.ended.length]).toStrictEqual([2, 2]);
  });

  it('reports a handshake or a poll that got a command as the server accepting the bot', async () => {
    const accepted: string[] = [];
    const { app } = rig({ onServerAccepted: (botId) => accepted.push(botId) });
    const handshake = await injectHook(app, {
      method: 'POST',
      url: '/on_handshake',
      headers,
      payload: {},
    });
    const poll = await injectHook(app, {
      method: 'POST',
      url: '/on_after_poll',
      headers,
      payload: { cmd: 'sleep' },
    });
    expect([handshake.statusCode, poll.statusCode]).toStrictEqual([200, 200]);
    const noCmd = await injectHook(app, {
      method: 'POST',
      url: '/on_after_poll',
      headers,
      payload: {},
    });
    expect(noCmd.statusCode).toBe(400);
    expect(accepted).toStrictEqual([BOT, BOT]);
  });

  it('stops waiting for the device when the shim hangs up', async () => {
    const { app, devices } = rig();
    devices.holdWaits = true;
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/on_before_task',
      headers: { ...headers, 'content-type': 'application/json' },
    });
    req.on('error', () => undefined);
    req.end('{}');
    await expect.poll(() => devices.waits.length).toBe(1);
    const signal = devices.waits[0]?.signal;
    expect(signal?.aborted).toBe(false);
    req.destroy();
    await expect.poll(() => signal?.aborted).toBe(true);
  });
});

describe('reboot_requested', () => {
  it('hands the argv to the supervisor', async () => {
    const { app, reboots } = rig();
    const argv = ['-n', '/sbin/shutdown', '-r', 'now'];
    const res = await injectHook(app, {
      method: 'POST',
      url: '/reboot_requested',
      headers,
      payload: { argv, ppid: 1234 },
    });
    expect(res.json()).toStrictEqual({ ok: true });
    expect(reboots).toStrictEqual([{ botId: BOT, argv }]);
  });
});

describe('malformed calls', () => {
  /** Each bot hook with a body it accepts, so only the part under test is wrong. */
  const validBodies: Record<string, object> = {
    '/get_state': {},
    '/get_dimensions': {},
    '/on_before_task': {},
    '/on_after_task': { failure: false, internal_failure: false },
    '/reboot_requested': { argv: [] },
  };
  const botHooks = Object.keys(validBodies);
  const allHooks = [...botHooks, '/get_settings'];
  const json = { 'content-type': 'application/json', ...headers };

  it.each(botHooks)('%s without X-Farm-Bot-Id is a 400 naming the header', async (url) => {
    const { app } = rig();
    const res = await injectHook(app, { method: 'POST', url, payload: validBodies[url] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain('x-farm-bot-id');
  });

  it.each(botHooks)('%s with a blank or doubled X-Farm-Bot-Id is a 400', async (url) => {
    const { app } = rig();
    for (const id of ['', ' ', 'a, b']) {
      const res = await injectHook(app, {
        method: 'POST',
        url,
        headers: { 'x-farm-bot-id': id },
        payload: validBodies[url],
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toContain('x-farm-bot-id');
    }
  });

  const bodies = allHooks.flatMap((url) => [
    { url, body: '{"os": [', status: 400, error: 'JSON' },
    { url, body: 'not json', status: 400, error: 'JSON' },
  ]);
  it.each(bodies)('$url with $body is a $status', async ({ url, body, status, error }) => {
    const { app } = rig();
    const res = await injectHook(app, { method: 'POST', url, headers: json, payload: body });
    expect(res.statusCode).toBe(status);
    expect(res.json().error).toContain(error);
  });

  it.each(botHooks.flatMap((url) => ['[]', '"text"', '42', 'null'].map((body) => ({ url, body }))))(
    '$url with the non-object body $body is a 400',
    async ({ url, body }) => {
      const { app } = rig();
      const res = await injectHook(app, { method: 'POST', url, headers: json, payload: body });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('body must be object');
    },
  );

  it.each([
    { url: '/get_dimensions', payload: { os: 'Linux' }, error: 'body/os must be array' },
    { url: '/get_dimensions', payload: { cores: [4] }, error: 'body/cores/0 must be string' },
    { url: '/get_dimensions', payload: { os: [null] }, error: 'body/os/0 must be string' },
    { url: '/on_before_task', payload: { task_id: 7 }, error: 'body/task_id must be string' },
    { url: '/on_before_task', payload: { wait_ms: '10' }, error: 'body/wait_ms must be integer' },
    { url: '/on_before_task', payload: { wait_ms: -1 }, error: 'body/wait_ms must be >= 0' },
    { url: '/on_before_task', payload: { call_id: '' }, error: 'body/call_id must NOT have fewer' },
    {
      url: '/on_after_task',
      payload: { failure: 'true', internal_failure: false },
      error: 'body/failure must be boolean',
    },
    {
      url: '/on_after_task',
      payload: { failure: false },
      error: "body must have required property 'internal_failure'",
    },
    { url: '/reboot_requested', payload: {}, error: "body must have required property 'argv'" },
    { url: '/reboot_requested', payload: { argv: 'reboot' }, error: 'body/argv must be array' },
    {
      url: '/reboot_requested',
      payload: { argv: [], ppid: 'x' },
      error: 'body/ppid must be integer',
    },
  ])('$url with $payload is a 400: $error', async ({ url, payload, error }) => {
    const { app, devices, reboots } = rig();
    const res = await injectHook(app, { method: 'POST', url, headers, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain(error);
    expect([devices.started, devices.ended, reboots]).toStrictEqual([[], [], []]);
  });

  it.each(allHooks)('%s with a body over the limit is a 413', async (url) => {
    const { app } = rig({ bodyLimit: 1024 });
    const payload = JSON.stringify({ env: ['x'.repeat(2000)] });
    const res = await injectHook(app, { method: 'POST', url, headers: json, payload });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toContain('too large');
  });

  it.each(
    allHooks.flatMap((url) =>
      ['text/plain', 'application/x-www-form-urlencoded'].map((type) => ({ url, type })),
    ),
  )('$url with content type $type is a 415', async ({ url, type }) => {
    const { app } = rig();
    const res = await injectHook(app, {
      method: 'POST',
      url,
      headers: { ...headers, 'content-type': type },
      payload: '{}',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toContain('Unsupported Media Type');
  });

  it('GET /reboot_requested is a 405: it needs the argv', async () => {
    const { app, reboots } = rig();
    const res = await injectHook(app, { method: 'GET', url: '/reboot_requested', headers });
    expect([res.statusCode, res.json()]).toStrictEqual([
      405,
      { error: '/reboot_requested takes POST with a JSON body' },
    ]);
    expect(reboots).toStrictEqual([]);
  });

  it('GET /on_after_task (as Skia did) ends the task without an outcome', async () => {
    const { app, devices } = rig();
    const res = await injectHook(app, { method: 'GET', url: '/on_after_task', headers });
    expect([res.statusCode, res.json()]).toStrictEqual([200, { ok: true }]);
    expect(devices.ended).toStrictEqual([
      { botId: BOT, result: { failure: false, internalFailure: false } },
    ]);
  });

  it('an unknown path is a 404 with a JSON reason', async () => {
    const { app } = rig();
    const res = await injectHook(app, { method: 'POST', url: '/get_stat' });
    expect([res.statusCode, res.json()]).toStrictEqual([
      404,
      { error: 'no hook at POST /get_stat' },
    ]);
  });
});

describe('metrics', () => {
  it('counts calls by hook and code and times them, with unknown paths folded together', async () => {
    const { app, metrics } = rig();
    const registry = new Registry();
    await metrics.register(registry);
    await injectHook(app, { method: 'POST', url: '/get_state', headers, payload: ownState });
    await injectHook(app, { method: 'POST', url: '/get_state', payload: ownState });
    await injectHook(app, { method: 'GET', url: '/what/ever' });
    const text = await registry.metrics();
    expect(text).toContain('farm_hook_requests_total{hook="get_state",code="200"} 1');
    expect(text).toContain('farm_hook_requests_total{hook="get_state",code="400"} 1');
    expect(text).toContain('farm_hook_requests_total{hook="unknown",code="404"} 1');
    expect(text).toContain('farm_hook_duration_seconds_count{hook="get_state"} 2');
  });

  it('counts the calls answered before its series were registered, once they are', async () => {
    const { app, metrics } = rig();
    await injectHook(app, { method: 'GET', url: '/healthz' });
    await injectHook(app, { method: 'GET', url: '/what/ever' });
    const registry = new Registry();
    await metrics.register(registry);
    await injectHook(app, { method: 'GET', url: '/healthz' });
    const text = await registry.metrics();
    expect(text).toContain('farm_hook_requests_total{hook="healthz",code="200"} 2');
    expect(text).toContain('farm_hook_requests_total{hook="unknown",code="404"} 1');
    expect(text).toContain('farm_hook_duration_seconds_count{hook="healthz"} 2');
  });
});

describe('hostile callers', () => {
  const bodies: Record<string, object> = {
    '/get_state': ownState,
    '/get_dimensions': ownDims,
    '/on_before_task': { call_id: 'c1' },
    '/on_after_task': { failure: false, internal_failure: false },
    '/reboot_requested': { argv: ['reboot'] },
  };

  it.each(Object.keys(bodies))('%s for a bot this node does not run is a 404', async (url) => {
    const { app, devices, reboots } = rig();
    const res = await injectHook(app, {
      method: 'POST',
      url,
      headers: { 'x-farm-bot-id': 'someone-else' },
      payload: bodies[url],
    });
    expect([res.statusCode, res.json()]).toStrictEqual([
      404,
      { error: 'no bot "someone-else" runs on this node' },
    ]);
    expect([devices.started, devices.ended, devices.waits, reboots]).toStrictEqual([
      [],
      [],
      [],
      [],
    ]);
  });

  it('a bot this node does not run is a 404 before its body is read', async () => {
    const { app } = rig();
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_state',
      headers: { 'x-farm-bot-id': 'someone-else', 'content-type': 'application/json' },
      payload: 'not json',
    });
    expect([res.statusCode, res.headers.connection]).toStrictEqual([404, 'close']);
  });

  it('2,000 invented bot ids reach nothing that keeps per-bot records', async () => {
    const exchanges: HookExchange[] = [];
    const { app, devices, reboots } = rig({ onAnswered: (e) => exchanges.push(e) });
    const codes = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const url = Object.keys(bodies)[i % 5] ?? '/get_state';
      const res = await injectHook(app, {
        method: 'POST',
        url,
        headers: { 'x-farm-bot-id': `bot-${i}` },
        payload: bodies[url],
      });
      codes.add(res.statusCode);
    }
    expect([...codes]).toStrictEqual([404]);
    expect([exchanges, reboots, devices.started, devices.ended]).toStrictEqual([[], [], [], []]);
  });

  it('a bot id longer than Swarming accepts (256 characters) is a 400 naming the header', async () => {
    const { app, devices } = rig();
    const longest = 'b'.repeat(256);
    devices.known.add(longest).add(`${longest}b`);
    const ok = await injectHook(app, {
      method: 'POST',
      url: '/get_dimensions',
      headers: { 'x-farm-bot-id': longest },
      payload: {},
    });
    expect(ok.json().id).toStrictEqual([longest]);
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_dimensions',
      headers: { 'x-farm-bot-id': `${longest}b` },
      payload: {},
    });
    expect([res.statusCode, res.json()]).toStrictEqual([
      400,
      { error: 'headers/x-farm-bot-id must NOT have more than 256 characters' },
    ]);
  });

  const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

  it.each(Object.keys(bodies))(
    '%s with a body nested 5,000 deep is a 400, and nothing is recorded',
    async (url) => {
      const exchanges: HookExchange[] = [];
      const { app, devices, reboots } = rig({ onAnswered: (e) => exchanges.push(e) });
      const res = await injectHook(app, {
        method: 'POST',
        url,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: nested(5000),
      });
      expect([res.statusCode, res.json()]).toStrictEqual([
        400,
        { error: 'body nests deeper than 32 levels' },
      ]);
      expect([exchanges, reboots, devices.started, devices.ended]).toStrictEqual([[], [], [], []]);
    },
  );

  it('accepts 32 levels of nesting and refuses 33', async () => {
    const { app } = rig();
    const post = (payload: string) =>
      injectHook(app, {
        method: 'POST',
        url: '/get_state',
        headers: { ...headers, 'content-type': 'application/json' },
        payload,
      });
    expect((await post(nested(32))).statusCode).toBe(200);
    expect((await post(`{"x":${nested(32)}}`)).statusCode).toBe(400);
  });

  it('still refuses prototype poisoning, as Fastify does', async () => {
    const { app } = rig();
    const res = await injectHook(app, {
      method: 'POST',
      url: '/get_state',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"__proto__": {"x": 1}}',
    });
    expect(res.statusCode).toBe(400);
  });
});
