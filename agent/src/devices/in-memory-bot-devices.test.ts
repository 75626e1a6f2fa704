import { describe, expect, it } from 'vitest';
import { InMemoryBotDevices } from './in-memory-bot-devices.js';

describe('InMemoryBotDevices', () => {
  it('rejects a bot it does not know', async () => {
    const devices = new InMemoryBotDevices();
    await expect(devices.view('ghost')).rejects.toThrow('no device is known for bot "ghost"');
    await expect(devices.taskStarted('ghost', {})).rejects.toThrow();
    expect(devices.knows('ghost')).toBe(false);
    devices.set('b1', { dimensions: {}, ready: true });
    expect(devices.knows('b1')).toBe(true);
  });

  it('records task start and end', async () => {
    let t = 1000;
    const devices = new InMemoryBotDevices(() => t);
    devices.set('b1', { dimensions: {}, ready: true });
    await devices.taskStarted('b1', { taskId: 't1' });
    expect(devices.activity()[0]?.task).toEqual({ taskId: 't1', startedAt: 1000 });
    t = 2000;
    await devices.taskEnded('b1', { failure: false, internalFailure: false });
    expect(devices.activity()[0]).toMatchObject({
      lastTask: { failure: false, internalFailure: false, endedAt: 2000 },
    });
    expect(devices.activity()[0]?.task).toBeUndefined();
  });

  it('resolves whenReady as soon as the device becomes ready, false on timeout', async () => {
    const devices = new InMemoryBotDevices();
    devices.set('b1', { dimensions: {}, ready: false });
    expect(await devices.whenReady('b1', 20)).toBe(false);
    const pending = devices.whenReady('b1', 5000);
    devices.set('b1', { dimensions: {}, ready: true });
    expect(await pending).toBe(true);
  });

  it('gives up waiting when the signal aborts', async () => {
    const devices = new InMemoryBotDevices();
    devices.set('b1', { dimensions: {}, ready: false });
    const controller = new AbortController();
    const pending = devices.whenReady('b1', 60_000, controller.signal);
    controller.abort();
    expect(await pending).toBe(false);
  });
});
