import Fastify from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { deeperThan, refuseStrangers } from './hook-guards.js';

describe('deeperThan', () => {
  it('counts arrays and objects alike; scalars are no level', () => {
    expect(deeperThan(1, 0)).toBe(false);
    expect(deeperThan({}, 0)).toBe(true);
    expect(deeperThan({ a: [1, 'x', null] }, 2)).toBe(false);
    expect(deeperThan({ a: [1, { b: true }] }, 2)).toBe(true);
    expect(deeperThan([[], [[]]], 3)).toBe(false);
    expect(deeperThan([[], [[[]]]], 3)).toBe(true);
  });

  it('walks any depth without recursion', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    expect(deeperThan(deep, 32)).toBe(true);
  });
});

describe('refuseStrangers', () => {
  it('asks about known bots only, before the handler, and answers a refusal with 403', async () => {
    const asked: string[] = [];
    const app = Fastify();
    const onRequest = refuseStrangers(
      async (_request, botId, hook) => {
        asked.push(`${hook} ${botId}`);
        return botId === 'mine' ? undefined : 'not the bot process';
      },
      'get_state',
      'x-bot',
      (botId) => botId !== 'unknown',
      pino({ level: 'silent' }),
    );
    let handled = 0;
    app.post('/get_state', { onRequest }, async () => ({ handled: ++handled }));
    const call = (bot?: string) =>
      app.inject({ method: 'POST', url: '/get_state', headers: bot ? { 'x-bot': bot } : {} });

    expect((await call('mine')).statusCode).toBe(200);
    const refused = await call('other');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({ error: 'not the bot process' });
    // Unknown and missing ids are left to the other guards.
    expect((await call('unknown')).statusCode).toBe(200);
    expect((await call()).statusCode).toBe(200);
    expect(asked).toEqual(['get_state mine', 'get_state other']);
    expect(handled).toBe(3);
    await app.close();
  });
});
