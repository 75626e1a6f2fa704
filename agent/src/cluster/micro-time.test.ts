import { describe, expect, it } from 'vitest';
import { MicroTime } from './micro-time.js';

describe('MicroTime', () => {
  it('serialises with six fractional digits, in JSON too; a plain Date keeps three', () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 67);
    expect(new MicroTime(at).toISOString()).toBe('2026-01-02T03:04:05.067000Z');
    expect(JSON.stringify({ t: new MicroTime(at) })).toBe('{"t":"2026-01-02T03:04:05.067000Z"}');
    expect(JSON.stringify({ t: new Date(at) })).toBe('{"t":"2026-01-02T03:04:05.067Z"}');
  });
});
