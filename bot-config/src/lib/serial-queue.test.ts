import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

/** A piece of work that finishes, or fails, when the test says so. */
function held() {
  let finish = (): void => undefined;
  let fail = (): void => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = () => reject(new Error('broke'));
  });
  return { work: () => done, finish, fail };
}

describe('SerialQueue', () => {
  it('runs work in call order, one piece at a time', async () => {
    const queue = new SerialQueue();
    const seen: string[] = [];
    const first = held();
    const a = queue.run(async () => {
      seen.push('a starts');
      await first.work();
      seen.push('a ends');
    });
    const b = queue.run(async () => {
      seen.push('b starts');
    });
    await Promise.resolve();
    expect(seen).toEqual(['a starts']);
    first.finish();
    await Promise.all([a, b]);
    expect(seen).toEqual(['a starts', 'a ends', 'b starts']);
  });

  it('is busy from the call until the last piece has settled, failed ones included', async () => {
    const queue = new SerialQueue();
    expect(queue.busy).toBe(false);
    const first = held();
    const second = held();
    const a = queue.run(first.work);
    const b = queue.run(second.work);
    // Busy at once, before the first piece has even started: a caller can tell synchronously.
    expect(queue.busy).toBe(true);
    first.fail();
    await expect(a).rejects.toThrow('broke');
    expect(queue.busy).toBe(true);
    second.finish();
    await b;
    expect(queue.busy).toBe(false);
    await queue.idle();
    expect(queue.busy).toBe(false);
  });
});
