import { describe, expect, it } from 'vitest';
import { deeperThan } from './hook-guards.js';

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
