import { describe, expect, it } from 'vitest';
import { ManualClock, settle } from '../../../test/rigs/manual-clock.js';
import { WakeLoop } from './wake-loop.js';

describe('WakeLoop', () => {
  it('runs at once, then when due; wake() runs it early; stop() ends it for good', async () => {
    const clock = new ManualClock(0);
    const runs: number[] = [];
    const loop = new WakeLoop(
      clock,
      () => {
        runs.push(clock.now());
        return Promise.resolve();
      },
      () => (runs.at(-1) ?? 0) + 1_000,
    );
    loop.start();
    loop.start();
    await settle();
    expect(runs).toEqual([0]);
    await clock.advance(999);
    expect(runs).toEqual([0]);
    await clock.advance(1);
    expect(runs).toEqual([0, 1_000]);
    await clock.advance(200);
    loop.wake();
    await settle();
    expect(runs).toEqual([0, 1_000, 1_200]);
    await loop.stop();
    expect(clock.nextTimerAt).toBeUndefined();
    await clock.advance(10_000);
    expect(runs).toHaveLength(3);
  });

  it('stop() waits for the step in flight and runs no other', async () => {
    const clock = new ManualClock(0);
    let release: () => void = () => undefined;
    let runs = 0;
    const loop = new WakeLoop(
      clock,
      () => {
        runs += 1;
        return new Promise((resolve) => (release = resolve));
      },
      () => clock.now(),
    );
    loop.start();
    await settle();
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(runs).toBe(1);
  });
});
