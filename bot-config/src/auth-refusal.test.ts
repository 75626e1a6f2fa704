import { describe, expect, it } from 'vitest';
import { AuthWatch, authRefusalOf } from './auth-refusal.js';

// Console lines in the real bot's format: "<pid> <UTC time> <severity letter>: <message>".
const HANDSHAKE_401 =
  '3021 2026-08-20 10:00:01.123 E: Request to https://chromium-swarm.appspot.com/swarming/api/v1/bot/handshake failed with HTTP status code 401: {"message": "missing credentials"}';
const POLL_403 =
  '3021 2026-08-20 10:00:09.456 E: Request to https://swarm.example.com/swarming/api/v1/bot/poll failed with HTTP status code 403: not in bot group';
const DISABLED = '3021 2026-08-20 10:00:00.900 I: Headers callback returned None, disabling auth';

describe('authRefusalOf', () => {
  it('recognises a refused request with its status and URL', () => {
    expect(authRefusalOf(HANDSHAKE_401)).toMatchObject({
      status: 401,
      url: 'https://chromium-swarm.appspot.com/swarming/api/v1/bot/handshake',
      reason: expect.stringContaining('no or invalid credentials'),
    });
    expect(authRefusalOf(POLL_403)).toMatchObject({
      status: 403,
      reason: expect.stringContaining('not allowed to act as this bot'),
    });
  });

  it('recognises the bot switching auth off', () => {
    expect(authRefusalOf(DISABLED)?.reason).toContain('turned authentication off');
  });

  it.each([
    '3021 2026-08-20 10:00:01.123 E: Request to https://s/swarming/api/v1/bot/poll failed with HTTP status code 500: boom',
    '3021 2026-08-20 10:00:01.123 E: Failed to contact for handshake, retrying in 2 sec...',
    'poll {"state": {"note": "HTTP status code 401"}}',
    'Request to https://s/x failed with HTTP status code 4010: no',
  ])('ignores %s', (line) => {
    expect(authRefusalOf(line)).toBeUndefined();
  });
});

describe('AuthWatch', () => {
  it('reports once per episode, counts the repeats, and starts over once cleared', () => {
    let now = 1000;
    const reported: unknown[] = [];
    const watch = new AuthWatch(
      (r) => reported.push(r.status),
      () => now,
    );
    watch.line('ordinary output');
    expect(watch.status()).toBeUndefined();
    watch.line(DISABLED);
    now = 2000;
    watch.line(HANDSHAKE_401);
    watch.line(HANDSHAKE_401);
    expect(reported).toEqual([undefined]);
    // The refused request's details replace the earlier notice; the episode's start stays.
    expect(watch.status()).toMatchObject({ status: 401, count: 3, since: 1000 });

    expect(watch.clear()).toBe(true);
    expect(watch.clear()).toBe(false);
    expect(watch.status()).toBeUndefined();
    watch.line(POLL_403);
    expect(reported).toEqual([undefined, 403]);
  });
});
