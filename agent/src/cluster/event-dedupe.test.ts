import { describe, expect, it } from 'vitest';
import { EventDeduper, type ReportedEvent } from './event-dedupe.js';

const missing = (slot: string, note = 'gone'): ReportedEvent => ({
  type: 'Warning',
  reason: 'Missing',
  note,
  slot,
});

describe('EventDeduper', () => {
  it('reports the first occurrence, folds repeats in the window into one summary', () => {
    const d = new EventDeduper(1000);
    expect(d.offer(missing('a'), 0)).toBe(true);
    expect(d.offer(missing('a', 'gone again'), 100)).toBe(false);
    expect(d.offer(missing('a', 'gone a third time'), 900)).toBe(false);
    expect(d.nextExpiry()).toBe(1000);
    expect(d.expire(999)).toEqual([]);
    expect(d.expire(1000)).toEqual([
      { event: missing('a', 'gone a third time'), count: 3, firstAt: 0, lastAt: 900 },
    ]);
    expect(d.nextExpiry()).toBeUndefined();
    // A new window starts with a reported occurrence.
    expect(d.offer(missing('a'), 1001)).toBe(true);
  });

  it.each<[string, ReportedEvent, ReportedEvent, boolean]>([
    ['same key, different note', missing('a', 'x'), missing('a', 'y'), false],
    ['another slot', missing('a'), missing('b'), true],
    ['another reason', missing('a'), { ...missing('a'), reason: 'Recovered' }, true],
    ['another type', missing('a'), { ...missing('a'), type: 'Normal' }, true],
    ['node-wide vs slot', { ...missing('a'), slot: undefined }, missing('a'), true],
  ])('%s → second reported: %s', (_n, first, second, reported) => {
    const d = new EventDeduper(1000);
    expect(d.offer(first, 0)).toBe(true);
    expect(d.offer(second, 10)).toBe(reported);
  });

  it('a window without repeats ends silently and is forgotten', () => {
    const d = new EventDeduper(1000);
    d.offer(missing('a'), 0);
    expect(d.nextExpiry()).toBeUndefined();
    expect(d.expire(5000)).toEqual([]);
    expect(d.offer(missing('a'), 5001)).toBe(true);
  });
});
