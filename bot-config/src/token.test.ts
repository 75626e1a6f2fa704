import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger, startTokenServer, type TokenServer } from '../../test/rigs/token-server.js';
import { TokenConfigError, TokenEndpointError, TokenSource } from './token.js';

const TOKEN = 'ya29.secret-token-value-do-not-log';
const FAST = { initialMs: 5, maxMs: 20 };

describe('TokenSource', () => {
  let dir: string;
  let configPath: string;
  let server: TokenServer | undefined;
  let clock: number;
  const now = (): number => clock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'token-'));
    configPath = join(dir, 'oauth2_access_token_config.json');
    clock = 1_700_000_000_000;
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(...args: Parameters<typeof startTokenServer>): Promise<TokenServer> {
    server = await startTokenServer(...args);
    await writeConfig({ url: server.url, headers: { 'Metadata-Flavor': 'Google' } });
    return server;
  }

  function writeConfig(config: unknown): Promise<void> {
    return writeFile(configPath, typeof config === 'string' ? config : JSON.stringify(config));
  }

  function source(extra: Partial<ConstructorParameters<typeof TokenSource>[0]> = {}) {
    const capture = captureLogger();
    const registry = new Registry();
    const tokens = new TokenSource({
      configPath,
      logger: capture.logger,
      registry,
      now,
      backoff: FAST,
      ...extra,
    });
    return { tokens, registry, logs: capture.text };
  }

  const ok = (expiresIn = 3600) => ({
    body: { access_token: TOKEN, expires_in: expiresIn, token_type: 'Bearer' },
  });

  it('fetches with the configured headers and caches the token', async () => {
    const srv = await serve(() => ok());
    const { tokens } = source();
    expect(await tokens.get()).toEqual({ accessToken: TOKEN, expiresAt: clock + 3_600_000 });
    clock += 30 * 60_000;
    expect((await tokens.get()).accessToken).toBe(TOKEN);
    expect(srv.requests).toHaveLength(1);
    expect(srv.requests[0]?.['metadata-flavor']).toBe('Google');
  });

  it('refreshes 5 minutes before expiry for long-lived tokens', async () => {
    const srv = await serve(() => ok(3600));
    const { tokens } = source();
    await tokens.get();
    clock += 55 * 60_000 - 1;
    await tokens.get();
    expect(srv.requests).toHaveLength(1);
    clock += 1;
    await tokens.get();
    expect(srv.requests).toHaveLength(2);
  });

  it('refreshes at half the lifetime for short-lived tokens', async () => {
    const srv = await serve(() => ok(120));
    const { tokens } = source();
    await tokens.get();
    clock += 60_000 - 1;
    await tokens.get();
    expect(srv.requests).toHaveLength(1);
    clock += 1;
    await tokens.get();
    expect(srv.requests).toHaveLength(2);
  });

  it('shares one in-flight fetch between concurrent callers', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const srv = await serve(async () => {
      await gate;
      return ok();
    });
    const { tokens } = source();
    const pending = [tokens.get(), tokens.get(), tokens.get()];
    // Let the single request reach the server before releasing it.
    await expect.poll(() => srv.requests.length).toBe(1);
    release();
    const results = await Promise.all(pending);
    expect(results.map((t) => t.accessToken)).toEqual([TOKEN, TOKEN, TOKEN]);
    expect(srv.requests).toHaveLength(1);
  });

  it('keeps fetching for the remaining caller when another one aborts', async () => {
    const srv = await serve((index) => (index < 3 ? { status: 503, body: 'busy' } : ok()));
    const { tokens } = source();
    const controller = new AbortController();
    const quitter = tokens.get(controller.signal);
    const stayer = tokens.get();
    controller.abort(new Error('shutting down'));
    await expect(quitter).rejects.toThrow('shutting down');
    expect((await stayer).accessToken).toBe(TOKEN);
    expect(srv.requests).toHaveLength(4);
  });

  it('retries 5xx, bad bodies and dropped connections, then succeeds', async () => {
    const replies = [
      { status: 500, body: 'oops' },
      { body: 'not json' },
      { body: { access_token: TOKEN, expires_in: 'soon' } },
      'drop' as const,
      ok(),
    ];
    const srv = await serve((index) => replies[index] ?? ok());
    const { tokens, registry, logs } = source();
    expect((await tokens.get()).accessToken).toBe(TOKEN);
    expect(srv.requests).toHaveLength(5);
    const counts = (await registry.getSingleMetric('farm_token_fetches_total')?.get())?.values;
    expect(Object.fromEntries(counts?.map((v) => [v.labels.result, v.value]) ?? [])).toEqual({
      http_error: 1,
      bad_response: 2,
      network_error: 1,
      ok: 1,
    });
    expect(logs()).toContain('field expires_in is not a positive number');
  });

  it('times out a stalled attempt and retries', async () => {
    const srv = await serve((index) => (index === 0 ? new Promise<never>(() => undefined) : ok()));
    const { tokens, logs } = source({ requestTimeoutMs: 100 });
    expect((await tokens.get()).accessToken).toBe(TOKEN);
    expect(srv.requests).toHaveLength(2);
    expect(logs()).toMatch(/timeout/i);
  });

  it('stops retrying when the only caller aborts', async () => {
    const srv = await serve(() => ({ status: 500, body: 'down' }));
    const { tokens } = source();
    const controller = new AbortController();
    const pending = tokens.get(controller.signal);
    await expect.poll(() => srv.requests.length).toBeGreaterThanOrEqual(2);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    const seen = srv.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(srv.requests.length).toBeLessThanOrEqual(seen + 1);
  });

  it('serves the still-valid token while an early refresh fails, paced by backoff', async () => {
    const srv = await serve((index) =>
      index === 0 || index >= 3 ? ok(3600) : { status: 500, body: '' },
    );
    const { tokens, logs } = source({ backoff: { initialMs: 10_000, maxMs: 10_000 } });
    const first = await tokens.get();
    clock += 56 * 60_000; // inside the refresh window, 4 minutes left
    expect(await tokens.get()).toEqual(first);
    expect(srv.requests).toHaveLength(2);
    // Within the backoff delay callers get the cached token without touching the endpoint.
    expect(await tokens.get()).toEqual(first);
    expect(srv.requests).toHaveLength(2);
    expect(logs()).toContain('using the current token meanwhile');
    clock += 10_000;
    expect(await tokens.get()).toEqual(first);
    expect(srv.requests).toHaveLength(3);
    clock += 10_000;
    expect((await tokens.get()).expiresAt).toBe(clock + 3_600_000);
    expect(srv.requests).toHaveLength(4);
  });

  it('blocks and retries once the cached token is nearly expired', async () => {
    const srv = await serve((index) => (index === 1 ? { status: 500, body: '' } : ok(3600)));
    const { tokens } = source();
    await tokens.get();
    clock += 3600_000 - 20_000; // 20 s left: too little to hand out
    expect((await tokens.get()).expiresAt).toBe(clock + 3_600_000);
    expect(srv.requests).toHaveLength(3);
  });

  it('re-reads the config file on every refresh', async () => {
    const srv = await serve(() => ok(120));
    const { tokens } = source();
    await tokens.get();
    await writeConfig({ url: srv.url, headers: { 'Metadata-Flavor': 'Rotated' } });
    clock += 61_000;
    await tokens.get();
    expect(srv.requests.map((h) => h['metadata-flavor'])).toEqual(['Google', 'Rotated']);
  });

  it('does not retry a 4xx from the token endpoint', async () => {
    const srv = await serve(() => ({ status: 404, body: 'no service account' }));
    const { tokens } = source();
    await expect(tokens.get()).rejects.toThrow(TokenEndpointError);
    await expect(tokens.get()).rejects.toThrow(/answered HTTP 404/);
    expect(srv.requests).toHaveLength(2);
  });

  describe('config errors name the file and the field', () => {
    it('missing file', async () => {
      const { tokens } = source();
      const err = await tokens.get().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenConfigError);
      expect((err as Error).message).toContain(configPath);
      expect((err as Error).message).toContain('ENOENT');
    });

    it.each([
      ['{"url": ', /is not valid JSON/],
      [[], /is not a JSON object/],
      [{ headers: {} }, /field "url" must be an http\(s\) URL/],
      [{ url: 'file:///etc/passwd' }, /field "url" must be an http\(s\) URL/],
      [{ url: 'http://x/', headers: ['a'] }, /field "headers" must be an object/],
      [{ url: 'http://x/', headers: { 'Metadata-Flavor': 1 } }, /"headers.Metadata-Flavor"/],
    ])('%j', async (config, pattern) => {
      await writeConfig(config);
      const err = await source()
        .tokens.get()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenConfigError);
      expect((err as Error).message).toMatch(pattern);
      expect((err as Error).message).toContain(configPath);
    });
  });

  it('never puts the token in logs or error messages', async () => {
    const replies = [
      { body: { access_token: TOKEN, expires_in: -1 } },
      { body: { access_token: TOKEN, expires_in: 60, token_type: 'MAC' } },
      { body: `{"access_token": "${TOKEN}", ` },
      ok(120),
      { status: 403, body: { access_token: TOKEN } },
    ];
    await serve((index) => replies[index] ?? ok());
    const { tokens, logs } = source();
    await tokens.get();
    clock += 61_000;
    const err = await tokens.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenEndpointError);
    // The check is meaningful only if those failures were actually logged.
    expect(logs()).toContain('token_type');
    expect(logs()).toContain('access token refreshed');
    expect(logs()).not.toContain(TOKEN);
    expect(String(err)).not.toContain(TOKEN);
  });
});
