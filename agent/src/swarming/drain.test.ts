import type { BotDevices, TaskEnd } from '@farm-agent/bot-config';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DRAIN_REASON, TaskDrain } from './drain.js';

const log = pino({ level: 'silent' });

function inner(maintenance?: string, ends: [string, TaskEnd][] = []): BotDevices {
  return {
    knows: () => true,
    view: async () => ({ dimensions: {}, ready: true, ...(maintenance ? { maintenance } : {}) }),
    whenReady: async () => true,
    readyNow: () => true,
    endsAtOnce: () => true,
    taskStarted: async () => undefined,
    taskEnded: async (botId, result) => {
      ends.push([botId, result]);
    },
  };
}

describe('TaskDrain', () => {
  it('adds the stopping maintenance to every view once draining, beside any other reason', async () => {
    const drain = new TaskDrain();
    const facts = drain.botDevices(inner('battery low'));
    expect((await facts.view('b')).maintenance).toBe('battery low');
    await drain.drain(10, log);
    expect((await facts.view('b')).maintenance).toBe(`${DRAIN_REASON}; battery low`);
    expect((await drain.botDevices(inner()).view('b')).maintenance).toBe(DRAIN_REASON);
  });

  it('waits for running tasks until their on_after_task or their bot exits', async () => {
    const drain = new TaskDrain();
    const facts = drain.botDevices(inner());
    await facts.taskStarted('a', {});
    await facts.taskStarted('b', {});
    expect(drain.status()).toEqual({ draining: false, runningTasks: ['a', 'b'] });

    let done = false;
    const draining = drain.drain(60_000, log).then(() => (done = true));
    await facts.taskEnded('a', { failure: false, internalFailure: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    expect(drain.status()).toEqual({ draining: true, runningTasks: ['b'] });
    drain.botExited('b', log);
    await draining;
    expect(done).toBe(true);
  });

  it('tells the devices a task ended when its bot exits mid-task, and only then', async () => {
    const ends: [string, TaskEnd][] = [];
    const drain = new TaskDrain();
    const facts = drain.botDevices(inner(undefined, ends));
    await facts.taskStarted('a', {});
    drain.botExited('idle-bot', log);
    drain.botExited('a', log);
    drain.botExited('a', log);
    await Promise.resolve();
    expect(ends).toEqual([['a', { failure: true, internalFailure: true }]]);
    expect(drain.runs('a')).toBe(false);
  });

  it('gives up after the grace', async () => {
    const drain = new TaskDrain();
    await drain.botDevices(inner()).taskStarted('a', {});
    const began = Date.now();
    await drain.drain(50, log);
    expect(Date.now() - began).toBeGreaterThanOrEqual(45);
    expect(drain.status().runningTasks).toEqual(['a']);
  });
});
