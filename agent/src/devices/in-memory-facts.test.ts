import { describe, expect, it } from 'vitest';
import { InMemoryDeviceFacts } from './in-memory-facts.js';

describe('InMemoryDeviceFacts', () => {
  it('rejects a bot it does not know', async () => {
    const facts = new InMemoryDeviceFacts();
    await expect(facts.view('ghost')).rejects.toThrow('no device is known for bot "ghost"');
    await expect(facts.taskStarted('ghost', {})).rejects.toThrow();
    expect(facts.knows('ghost')).toBe(false);
    facts.set('b1', { dimensions: {}, ready: true });
    expect(facts.knows('b1')).toBe(true);
  });

  it('records task start and end', async () => {
    let t = 1000;
    const facts = new InMemoryDeviceFacts(() => t);
    facts.set('b1', { dimensions: {}, ready: true });
    await facts.taskStarted('b1', { taskId: 't1' });
    expect(facts.activity()[0]?.task).toEqual({ taskId: 't1', startedAt: 1000 });
    t = 2000;
    await facts.taskEnded('b1', { failure: false, internalFailure: false });
    expect(facts.activity()[0]).toMatchObject({
      lastTask: { failure: false, internalFailure: false, endedAt: 2000 },
    });
    expect(facts.activity()[0]?.task).toBeUndefined();
  });

  it('resolves whenReady as soon as the device becomes ready, false on timeout', async () => {
    const facts = new InMemoryDeviceFacts();
    facts.set('b1', { dimensions: {}, ready: false });
    expect(await facts.whenReady('b1', 20)).toBe(false);
    const pending = facts.whenReady('b1', 5000);
    facts.set('b1', { dimensions: {}, ready: true });
    expect(await pending).toBe(true);
  });

  it('gives up waiting when the signal aborts', async () => {
    const facts = new InMemoryDeviceFacts();
    facts.set('b1', { dimensions: {}, ready: false });
    const controller = new AbortController();
    const pending = facts.whenReady('b1', 60_000, controller.signal);
    controller.abort();
    expect(await pending).toBe(false);
  });
});
