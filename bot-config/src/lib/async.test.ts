import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorMessage, isRecord, settlesWithin, untilAborted, withTimeout } from './async.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('untilAborted', () => {
  it('settles like the promise while the signal stays quiet', async () => {
    const controller = new AbortController();
    await expect(untilAborted(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    await expect(
      untilAborted(Promise.reject(new Error('broke')), controller.signal),
    ).rejects.toThrow('broke');
  });

  it('rejects with the abort reason without waiting for a promise that never settles', async () => {
    const controller = new AbortController();
    const waiting = untilAborted(new Promise<never>(() => {}), controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
  });

  it('rejects at once on a signal aborted before the call', async () => {
    const signal = AbortSignal.abort(new Error('already'));
    await expect(untilAborted(Promise.resolve(1), signal)).rejects.toThrow('already');
  });
});

describe('settlesWithin and withTimeout', () => {
  it('settlesWithin says whether the promise settled before the time ran out', async () => {
    vi.useFakeTimers();
    let settle!: () => void;
    const slow = new Promise<void>((resolve) => (settle = resolve));
    const late = settlesWithin(slow, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(late).resolves.toBe(false);

    const early = settlesWithin(slow, 1000);
    settle();
    await expect(early).resolves.toBe(true);
    await expect(settlesWithin(Promise.reject(new Error('x')), 1000)).resolves.toBe(true);
  });

  it('withTimeout rejects naming the time, and passes a prompt answer through', async () => {
    vi.useFakeTimers();
    const hung = withTimeout(new Promise<never>(() => {}), 4000);
    const caught = expect(hung).rejects.toThrow('no answer within 4000 ms');
    await vi.advanceTimersByTimeAsync(4000);
    await caught;
    await expect(withTimeout(Promise.resolve('ok'), 4000)).resolves.toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('withTimeout rejects with the caller error and hands a late value to discard', async () => {
    vi.useFakeTimers();
    let answer!: (value: string) => void;
    const late = new Promise<string>((resolve) => (answer = resolve));
    const discarded: string[] = [];
    const hung = withTimeout(late, 100, {
      error: () => new RangeError('adb: too slow'),
      discard: (value) => discarded.push(value),
    });
    const caught = expect(hung).rejects.toThrow(RangeError);
    await vi.advanceTimersByTimeAsync(100);
    await caught;
    answer('stream');
    await vi.advanceTimersByTimeAsync(0);
    expect(discarded).toEqual(['stream']);
  });

  it('withTimeout turns a synchronous throw of a work function into a rejection', async () => {
    const work = (): Promise<never> => {
      throw new Error('no probe');
    };
    await expect(withTimeout(work, 100)).rejects.toThrow('no probe');
  });

  it('isRecord accepts plain objects only', () => {
    expect(isRecord({ a: 1 })).toBe(true);
    expect(isRecord([])).toBe(false);
    expect(isRecord(null)).toBe(false);
    expect(isRecord('x')).toBe(false);
  });

  it('errorMessage takes an Error message or the string form of anything else', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage(42)).toBe('42');
  });
});
