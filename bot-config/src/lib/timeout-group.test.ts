import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimeoutGroup } from './timeout-group.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const never = (): Promise<never> => new Promise<never>(() => {});

/** 'pending' until the promise settles, then its value or its error's message. */
function watch<T>(promise: Promise<T>): () => T | string {
  let state: T | string = 'pending';
  promise.then(
    (value) => (state = value),
    (error: unknown) => (state = (error as Error).message),
  );
  return () => state;
}

describe('TimeoutGroup', () => {
  it('settles like the promise when it settles in time', async () => {
    const group = new TimeoutGroup(4000);
    await expect(group.within(Promise.resolve('view'))).resolves.toBe('view');
    await expect(group.within(Promise.reject(new Error('adb down')))).rejects.toThrow('adb down');
  });

  it('rejects a wait that takes longer, at its deadline and not before', async () => {
    const group = new TimeoutGroup(4000);
    const state = watch(group.within(never()));
    await vi.advanceTimersByTimeAsync(3999);
    expect(state()).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(state()).toBe('no answer within 4000 ms');
  });

  it('gives a wait started while the timer runs for an earlier one its whole time', async () => {
    const group = new TimeoutGroup(4000);
    const first = watch(group.within(never()));
    await vi.advanceTimersByTimeAsync(3000);
    const second = watch(group.within(never()));
    await vi.advanceTimersByTimeAsync(1000);
    expect([first(), second()]).toEqual(['no answer within 4000 ms', 'pending']);
    await vi.advanceTimersByTimeAsync(2999);
    expect(second()).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(second()).toBe('no answer within 4000 ms');
  });

  it('times out a wait that starts after the earlier ones settled', async () => {
    const group = new TimeoutGroup(4000);
    await group.within(Promise.resolve(1));
    await vi.advanceTimersByTimeAsync(2000);
    const late = watch(group.within(never()));
    await vi.advanceTimersByTimeAsync(3999);
    expect(late()).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(late()).toBe('no answer within 4000 ms');
  });

  it('arms one timer for any number of waits', async () => {
    const group = new TimeoutGroup(4000);
    for (let i = 0; i < 100; i++) await group.within(Promise.resolve(i));
    const pending = Array.from({ length: 10 }, () => group.within(never()).catch(() => 'out'));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(4000);
    expect(await Promise.all(pending)).toEqual(Array(10).fill('out'));
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('TimeoutGroup, on real timers', () => {
  it('keeps no process alive: its timer outlives the waits that settled', async () => {
    vi.useRealTimers();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const group = new TimeoutGroup(60_000);
    await group.within(Promise.resolve('view'));
    expect(timers()).toBe(before);
  });
});
