import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createClusterServer } from './cluster-server.js';
import { readStatusToken } from './status-token.js';

const TOKEN = 'k7GvQ2-status-token-0123456789';

function server(statusToken?: string) {
  return createClusterServer({
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    status: () => ({ node: 'pi-1', cwd: '/var/lib/farm-agent' }),
    ...(statusToken === undefined ? {} : { statusToken }),
  });
}

describe('/status with FARM_STATUS_TOKEN_FILE', () => {
  it.each([
    ['no Authorization', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token-at-all' }],
    ['the token as Basic', { authorization: `Basic ${TOKEN}` }],
    ['the token with something appended', { authorization: `Bearer ${TOKEN}x` }],
  ])('is a 401 with %s, and shows nothing', async (_what, headers) => {
    const app = server(TOKEN);
    const res = await app.inject({ method: 'GET', url: '/status', headers });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="farm-agent"');
    expect(res.body).not.toContain('pi-1');
  });

  it('answers the bearer of the token (scheme in any case)', async () => {
    const app = server(TOKEN);
    for (const scheme of ['Bearer', 'bearer']) {
      const res = await app.inject({
        method: 'GET',
        url: '/status',
        headers: { authorization: `${scheme} ${TOKEN}` },
      });
      expect([res.statusCode, res.json()]).toStrictEqual([
        200,
        { node: 'pi-1', cwd: '/var/lib/farm-agent' },
      ]);
    }
  });

  it('leaves probes and scrapes open, and /status open when no token is set', async () => {
    const locked = server(TOKEN);
    expect((await locked.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await locked.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect((await server().inject({ method: 'GET', url: '/status' })).statusCode).toBe(200);
  });
});

describe('readStatusToken', () => {
  const dir = mkdtempSync(join(tmpdir(), 'status-token-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads the token, without the trailing newline a Secret often has', () => {
    expect(readStatusToken(file('ok', `${TOKEN}\n`))).toBe(TOKEN);
  });

  it.each([
    ['missing', join(dir, 'nope'), 'ENOENT'],
    ['empty', file('empty', '\n'), 'expected one token'],
    ['two words', file('two', 'abcdefgh ijklmnopq'), 'expected one token'],
    ['too short', file('short', 'abc'), 'expected one token of 16'],
  ])('refuses a %s file naming the setting, never echoing its content', (_what, path, message) => {
    expect(() => readStatusToken(path)).toThrow(`FARM_STATUS_TOKEN_FILE=${JSON.stringify(path)}`);
    expect(() => readStatusToken(path)).toThrow(message);
    expect(() => readStatusToken(path)).not.toThrow('ijklmnopq');
  });
});
