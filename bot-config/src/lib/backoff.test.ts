import { describe, expect, it } from 'vitest';
import { Backoff, sleep } from './backoff.js';

describe('Backoff', () => {
  it('doubles up to the cap without jitter', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(b.attempts).toBe(6);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('draws full jitter below the ceiling', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 8000, jitter: 1, random: () => 0.75 });
    expect(b.next()).toBe(250);
    expect(b.next()).toBe(500);
  });

  it('rejects nonsensical bounds', () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 1 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
  });
});

describe('sleep', () => {
  it('rejects at once with the abort reason', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error('stopping'));
    await expect(pending).rejects.toThrow('stopping');
  });
});
