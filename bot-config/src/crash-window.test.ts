import { describe, expect, it } from 'vitest';
import { CrashWindow, formatDuration } from './crash-window.js';

const options = { max: 3, windowMs: 600_000, stableAfterMs: 60_000 };

describe('CrashWindow', () => {
  it.each([
    { name: 'below the limit', crashes: [0, 1_000], quarantined: undefined },
    {
      name: 'at the limit inside the window',
      crashes: [0, 1_000, 2_000],
      quarantined: 'bot crashed 3 times in 10m (last: exit code 3)',
    },
    {
      name: 'old crashes slid out of the window',
      crashes: [0, 1_000, 600_000],
      quarantined: undefined,
    },
    {
      name: 'the window edge is exclusive',
      crashes: [0, 599_999, 599_999],
      quarantined: 'bot crashed 3 times in 10m (last: exit code 3)',
    },
    {
      name: 'a later burst after a quiet spell',
      crashes: [0, 700_000, 700_001, 700_002],
      quarantined: 'bot crashed 3 times in 10m (last: exit code 4)',
    },
  ])('$name', ({ crashes, quarantined }) => {
    const window = new CrashWindow(options);
    crashes.forEach((at, i) => window.crashed(at, `exit code ${i + 1}`));
    expect(window.quarantined).toBe(quarantined);
  });

  it('reports the transition once and refreshes the reason on later crashes', () => {
    const window = new CrashWindow(options);
    expect([0, 1, 2, 3].map((at) => window.crashed(at, `signal SIGSEGV at ${at}`))).toEqual([
      undefined,
      undefined,
      'bot crashed 3 times in 10m (last: signal SIGSEGV at 2)',
      undefined,
    ]);
    expect(window.quarantined).toBe('bot crashed 4 times in 10m (last: signal SIGSEGV at 3)');
  });

  it.each([
    { name: 'too short an uptime keeps the quarantine', upFor: 59_999, lifted: false },
    { name: 'a stable uptime lifts it', upFor: 60_000, lifted: true },
  ])('$name', ({ upFor, lifted }) => {
    const window = new CrashWindow(options);
    [0, 1, 2].forEach((at) => window.crashed(at, 'exit code 1'));
    expect(window.stayedUp(10, 10 + upFor)).toBe(lifted);
    expect(window.quarantined !== undefined).toBe(!lifted);
  });

  it('forgets old crashes once stable, so one new crash does not re-quarantine', () => {
    const window = new CrashWindow(options);
    window.crashed(0, 'exit code 1');
    window.crashed(1, 'exit code 1');
    expect(window.stayedUp(2, 60_002)).toBe(false);
    expect(window.crashed(60_003, 'exit code 1')).toBeUndefined();
    expect(window.quarantined).toBeUndefined();
  });

  it('rejects nonsensical options', () => {
    expect(() => new CrashWindow({ ...options, max: 0 })).toThrow(RangeError);
    expect(() => new CrashWindow({ ...options, windowMs: 0 })).toThrow(RangeError);
    expect(() => new CrashWindow({ ...options, stableAfterMs: -1 })).toThrow(RangeError);
  });
});

describe('formatDuration', () => {
  it.each([
    [600_000, '10m'],
    [7_200_000, '2h'],
    [90_000, '90s'],
    [1_500, '1500ms'],
    [250, '250ms'],
  ])('%i -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
