import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSwarming, type FakeSwarming } from '../../test/rigs/fake-swarming.js';
import { captureLogger, startTokenServer, type TokenServer } from '../../test/rigs/token-server.js';
import { makeZip } from '../../test/rigs/zip.js';
import { BotCodeStore, type BotCodeStoreOptions } from './bot-code.js';
import { TokenSource } from './token.js';

const TOKEN = 'ya29.bot-code-token-never-logged';
const BOT_ID = 'pi-1';

describe('BotCodeStore', () => {
  let zipA: Buffer;
  let zipB: Buffer;
  let dir: string;
  let stateDir: string;
  let configPath: string;
  let fake: FakeSwarming;
  let tokenServer: TokenServer;
  let controller: AbortController;

  beforeAll(async () => {
    const work = await mkdtemp(join(tmpdir(), 'bot-zips-'));
    await makeZip(join(work, 'a.zip'), { '__main__.py': 'print("version a")\n' });
    await makeZip(join(work, 'b.zip'), { '__main__.py': 'print("version b")\n' });
    zipA = await readFile(join(work, 'a.zip'));
    zipB = await readFile(join(work, 'b.zip'));
    await rm(work, { recursive: true });
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bot-code-'));
    stateDir = join(dir, 'state');
    configPath = join(dir, 'token-config.json');
    controller = new AbortController();
    fake = await startFakeSwarming({ zip: zipA, token: TOKEN });
    tokenServer = await startTokenServer(() => ({
      body: { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' },
    }));
    await writeConfig();
  });

  afterEach(async () => {
    controller.abort(new Error('test over'));
    await fake.close();
    await tokenServer.close();
    await rm(dir, { recursive: true, force: true });
  });

  function writeConfig(): Promise<void> {
    return writeFile(configPath, JSON.stringify({ url: tokenServer.url, headers: {} }));
  }

  /** A store wired to a real TokenSource and the fake server, with fast retries. */
  function store(extra: Partial<BotCodeStoreOptions> = {}) {
    const { logger, text } = captureLogger();
    const registry = new Registry();
    const tokens = new TokenSource({ configPath, logger, backoff: { initialMs: 5, maxMs: 5 } });
    const codes = new BotCodeStore({
      server: fake.url,
      botId: BOT_ID,
      stateDir,
      tokens,
      logger,
      registry,
      backoff: { initialMs: 10, maxMs: 20 },
      authBackoff: { initialMs: 100, maxMs: 100 },
      requestTimeoutMs: 5_000,
      ...extra,
    });
    const counts = async (): Promise<Record<string, number>> => {
      const metric = await registry.getSingleMetric('farm_bot_code_downloads_total')?.get();
      return Object.fromEntries(metric?.values.map((v) => [v.labels.result, v.value]) ?? []);
    };
    return { codes, logs: text, counts };
  }

  const onDisk = () => readFile(join(stateDir, 'swarming_bot.zip'));

  it('downloads through the redirect with the token and bot id, then serves the cache', async () => {
    const { codes, counts, logs } = store();
    const path = await codes.ensure(controller.signal);
    expect(path).toBe(join(stateDir, 'swarming_bot.zip'));
    expect(await onDisk()).toEqual(zipA);
    expect(fake.requests.map((r) => r.path)).toEqual([
      '/bot_code',
      expect.stringMatching(/^\/swarming\/api\/v1\/bot\/bot_code\/[0-9a-f]{64}$/),
    ]);
    for (const request of fake.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.headers['x-luci-swarming-bot-id']).toBe(BOT_ID);
    }
    expect(await codes.ensure(controller.signal)).toBe(path);
    expect(fake.requests).toHaveLength(2);
    expect(await counts()).toEqual({ ok: 1 });
    expect(await readdir(stateDir)).toEqual(['swarming_bot.zip']);
    expect(logs()).not.toContain(TOKEN);
  });

  it('follows a bot that updated itself: new slots start on its code, with no download', async () => {
    const { codes } = store();
    await codes.ensure(controller.signal);
    expect(fake.requests).toHaveLength(2);
    const bots = [join(stateDir, 'bots', 'a'), join(stateDir, 'bots', 'b')];
    await Promise.all(bots.map((bot) => mkdir(bot, { recursive: true })));
    // Bot b got `update` from the server and wrote its new code, later than the cache.
    const updated = join(bots[1] ?? '', 'swarming_bot.1.zip');
    await writeFile(updated, zipB);
    const later = new Date(Date.now() + 60_000);
    await utimes(updated, later, later);
    // Bot a's update was cut short: a partial zip, newer still, is not followed.
    const partial = join(bots[0] ?? '', 'swarming_bot.2.zip');
    await writeFile(partial, zipA.subarray(0, 100));
    const latest = new Date(Date.now() + 120_000);
    await utimes(partial, latest, latest);

    expect(await codes.newest(bots, controller.signal)).toBe(join(stateDir, 'swarming_bot.zip'));
    expect(await onDisk()).toEqual(zipB);
    expect(Math.floor((await stat(join(stateDir, 'swarming_bot.zip'))).mtimeMs)).toBe(
      Math.floor((await stat(updated)).mtimeMs),
    );
    expect(fake.requests).toHaveLength(2);
  });

  it('downloads for newest() only when no whole zip exists anywhere', async () => {
    const { codes } = store();
    const bot = join(stateDir, 'bots', 'a');
    await mkdir(bot, { recursive: true });
    await writeFile(join(bot, 'swarming_bot.zip'), zipB.subarray(0, 50));
    expect(await codes.newest([bot], controller.signal)).toBe(join(stateDir, 'swarming_bot.zip'));
    expect(await onDisk()).toEqual(zipA);
    expect(fake.requests.filter((r) => r.path === '/bot_code')).toHaveLength(1);
  });

  it('shares one download among bots that ask at once', async () => {
    const { codes, counts } = store();
    const paths = await Promise.all([1, 2, 3, 4].map(() => codes.ensure(controller.signal)));
    expect(new Set(paths)).toEqual(new Set([join(stateDir, 'swarming_bot.zip')]));
    expect(fake.requests.filter((r) => r.path === '/bot_code')).toHaveLength(1);
    expect(await counts()).toEqual({ ok: 1 });
    expect(await onDisk()).toEqual(zipA);
  });

  /** A sleep that records each delay and takes none, recovering the server after `n`. */
  function recordedSleep(n: number) {
    const delays: number[] = [];
    const sleep = async (ms: number): Promise<void> => {
      delays.push(ms);
      if (delays.length === n) fake.mode = 'ok';
    };
    return { delays, sleep };
  }

  it('retries 5xx with backoff until the server recovers', async () => {
    fake.mode = 'error500';
    const { delays, sleep } = recordedSleep(3);
    const { codes, counts } = store({ backoff: { initialMs: 40, maxMs: 40 }, sleep });
    await codes.ensure(controller.signal);
    // One wait of the (half-jittered) 40 ms backoff after each failure.
    expect(delays).toHaveLength(3);
    for (const ms of delays) expect(ms).toSatisfy((d: number) => d >= 20 && d <= 40);
    expect(await onDisk()).toEqual(zipA);
    expect(await counts()).toEqual({ http_error: 3, ok: 1 });
  });

  it('gives up on a stalled server after the request timeout and retries', async () => {
    fake.mode = 'stall';
    const { codes, counts } = store({ requestTimeoutMs: 200 });
    const started = Date.now();
    const pending = codes.ensure(controller.signal);
    await expect.poll(() => fake.requests.length).toBe(1);
    fake.mode = 'ok';
    await pending;
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(await onDisk()).toEqual(zipA);
    expect(await counts()).toEqual({ network_error: 1, ok: 1 });
  });

  it('keeps the last good zip when a refresh gets a corrupt body', async () => {
    const { codes, counts, logs } = store();
    await codes.ensure(controller.signal);
    fake.setZip(zipB);
    fake.mode = 'corrupt';
    expect(await codes.refresh(controller.signal)).toBe(join(stateDir, 'swarming_bot.zip'));
    expect(await onDisk()).toEqual(zipA);
    expect(logs()).toContain('keeping the last good zip');
    fake.mode = 'ok';
    await codes.refresh(controller.signal);
    expect(await onDisk()).toEqual(zipB);
    expect(await counts()).toEqual({ ok: 2, corrupt: 1 });
    expect(await readdir(stateDir)).toEqual(['swarming_bot.zip']);
  });

  it('keeps retrying a refresh when there is no good zip to fall back on', async () => {
    fake.mode = 'corrupt';
    const { codes, counts } = store();
    const pending = codes.refresh(controller.signal);
    await expect.poll(async () => (await counts()).corrupt ?? 0).toBeGreaterThanOrEqual(2);
    fake.mode = 'ok';
    await pending;
    expect(await onDisk()).toEqual(zipA);
  });

  it('re-downloads a corrupt cached zip and sweeps stale temp files', async () => {
    const { codes, logs } = store();
    await codes.ensure(controller.signal);
    const cached = await onDisk();
    await writeFile(join(stateDir, 'swarming_bot.zip'), cached.subarray(0, 100));
    await writeFile(join(stateDir, 'swarming_bot.zip.0123abcd.tmp'), 'left by a power cut');
    await codes.ensure(controller.signal);
    expect(await onDisk()).toEqual(zipA);
    expect(logs()).toContain('no usable bot code; downloading');
    expect(logs()).toContain('not a readable zip');
    expect(await readdir(stateDir)).toEqual(['swarming_bot.zip']);
  });

  it('logs a clear error on 403 and retries on the slower auth backoff', async () => {
    fake.mode = 'unauthorized';
    const { delays, sleep } = recordedSleep(2);
    const { codes, counts, logs } = store({ backoff: { initialMs: 1, maxMs: 1 }, sleep });
    await codes.ensure(controller.signal);
    // The auth backoff (100 ms, half jitter), not the 1 ms one for server errors.
    expect(delays).toHaveLength(2);
    for (const ms of delays) expect(ms).toSatisfy((d: number) => d >= 50 && d <= 100);
    expect(logs()).toContain(`not authorized for bot id \\"${BOT_ID}\\"`);
    expect(logs()).toContain('"level":50');
    expect(await counts()).toEqual({ auth_error: 2, ok: 1 });
    expect(logs()).not.toContain(TOKEN);
  });

  it('treats a rejected token (401) as an auth error', async () => {
    await fake.close();
    fake = await startFakeSwarming({ zip: zipA, token: 'the token the server expects' });
    const { codes, counts } = store();
    const pending = codes.ensure(controller.signal);
    await expect.poll(async () => (await counts()).auth_error ?? 0).toBeGreaterThanOrEqual(1);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    expect(fake.requests.every((r) => r.path === '/bot_code')).toBe(true);
  });

  it('retries slowly while the token config is missing and recovers once it appears', async () => {
    await rm(configPath);
    const { codes, logs } = store();
    const pending = codes.ensure(controller.signal);
    await expect.poll(() => logs()).toContain('cannot get an access token');
    expect(logs()).toContain(configPath);
    await writeConfig();
    await pending;
    expect(await onDisk()).toEqual(zipA);
  });

  it('logs a local write failure and retries once the directory is usable', async () => {
    // A file where the state directory should be: mkdir fails with a syscall error.
    await writeFile(stateDir, 'not a directory');
    const { codes, logs, counts } = store();
    const pending = codes.ensure(controller.signal);
    await expect.poll(() => logs()).toContain(`cannot write the bot code to ${stateDir}`);
    await rm(stateDir);
    await pending;
    expect(await onDisk()).toEqual(zipA);
    expect(await counts()).toEqual({ ok: 1 });
  });

  it('stops on abort and leaves no temp file behind', async () => {
    fake.mode = 'stall';
    const { codes } = store();
    const pending = codes.ensure(controller.signal);
    await expect.poll(() => fake.requests.length).toBe(1);
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
    expect(await readdir(stateDir)).toEqual([]);
  });
});
