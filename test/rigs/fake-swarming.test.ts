import { afterEach, describe, expect, it } from 'vitest';
import { startFakeSwarming, type FakeSwarming } from './fake-swarming.js';

const TOKEN = 'fake-token';
const ZIP = Buffer.from('PK\u0003\u0004 pretend zip');
const AUTH = { authorization: `Bearer ${TOKEN}` };
const BOT = { 'x-luci-swarming-bot-id': 'pi-1' };

describe('fake Swarming server', () => {
  let fake: FakeSwarming;

  afterEach(async () => {
    await fake.close();
  });

  it('redirects /bot_code to the versioned zip and undici keeps Authorization across it', async () => {
    fake = await startFakeSwarming({ zip: ZIP, token: TOKEN });
    const res = await fetch(`${fake.url}/bot_code`, { headers: { ...AUTH, ...BOT } });
    expect(res.status).toBe(200);
    expect(res.redirected).toBe(true);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(ZIP);
    expect(fake.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
      ['/bot_code', AUTH.authorization],
      [
        expect.stringMatching(/^\/swarming\/api\/v1\/bot\/bot_code\/[0-9a-f]{64}$/),
        AUTH.authorization,
      ],
    ]);
  });

  it('rejects a missing or wrong token on both URLs', async () => {
    fake = await startFakeSwarming({ zip: ZIP, token: TOKEN });
    const redirect = await fetch(`${fake.url}/bot_code`, {
      headers: { ...AUTH, ...BOT },
      redirect: 'manual',
    });
    const versioned = `${fake.url}${redirect.headers.get('location') ?? ''}`;
    for (const url of [`${fake.url}/bot_code`, versioned]) {
      expect((await fetch(url, { headers: BOT })).status).toBe(401);
      const wrong = { ...BOT, authorization: 'Bearer other' };
      expect((await fetch(url, { headers: wrong })).status).toBe(401);
      expect((await fetch(url, { headers: { ...AUTH, ...BOT } })).status).toBe(200);
    }
  });

  it('requires a bot id, by header or by query, and keeps the query across the redirect', async () => {
    fake = await startFakeSwarming({ zip: ZIP, token: TOKEN });
    expect((await fetch(`${fake.url}/bot_code`, { headers: AUTH })).status).toBe(400);
    const res = await fetch(`${fake.url}/bot_code?bot_id=pi-1`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(fake.requests.at(-1)?.path).toMatch(/\?bot_id=pi-1$/);
  });

  it('answers 404 for a stale sha and serves the new zip after setZip', async () => {
    fake = await startFakeSwarming({ zip: ZIP, token: TOKEN });
    const stale = await fetch(`${fake.url}/bot_code`, { headers: { ...AUTH, ...BOT } });
    await stale.arrayBuffer();
    const staleUrl = stale.url;
    const next = Buffer.from('PK\u0003\u0004 newer');
    fake.setZip(next);
    expect((await fetch(staleUrl, { headers: { ...AUTH, ...BOT } })).status).toBe(404);
    const res = await fetch(`${fake.url}/bot_code`, { headers: { ...AUTH, ...BOT } });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(next);
    expect(res.url).not.toBe(staleUrl);
  });

  it('fails, refuses, truncates and stalls on demand; close() ends a stalled request', async () => {
    fake = await startFakeSwarming({ zip: ZIP, token: TOKEN });
    const get = () => fetch(`${fake.url}/bot_code`, { headers: { ...AUTH, ...BOT } });
    fake.mode = 'error500';
    expect((await get()).status).toBe(500);
    fake.mode = 'unauthorized';
    expect((await get()).status).toBe(403);
    fake.mode = 'corrupt';
    expect((await (await get()).arrayBuffer()).byteLength).toBe(Math.floor(ZIP.length / 2));
    fake.mode = 'stall';
    const stalled = get();
    await expect.poll(() => fake.requests.length).toBe(5);
    await fake.close();
    await expect(stalled).rejects.toThrow();
  });
});
