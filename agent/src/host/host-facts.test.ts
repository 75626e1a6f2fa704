import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHostFacts } from './host-facts.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'host-facts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readHostFacts on this machine', () => {
  it('reads every fact it can, with sane shapes, within its timeout', async () => {
    const timeoutMs = 5_000;
    const started = performance.now();
    const facts = await readHostFacts({ stateDir: dir, timeoutMs });
    // Probes run in parallel, each bounded: the whole read ends near one timeout.
    expect(performance.now() - started).toBeLessThan(timeoutMs + 1_000);

    expect(facts.memoryTotalBytes).toBeGreaterThan(0);
    expect(facts.memoryAvailableBytes).toBeGreaterThan(0);
    expect(facts.memoryAvailableBytes).toBeLessThanOrEqual(facts.memoryTotalBytes ?? 0);
    expect(facts.disk?.path).toBe(dir);
    expect(facts.disk?.totalBytes).toBeGreaterThan(0);
    expect(facts.disk?.freeBytes).toBeGreaterThanOrEqual(0);
    expect(facts.disk?.freeBytes).toBeLessThanOrEqual(facts.disk?.totalBytes ?? 0);
    expect(facts.load).toHaveLength(3);
    for (const load of facts.load ?? []) expect(load).toBeGreaterThanOrEqual(0);
    expect(facts.uptimeSeconds).toBeGreaterThan(0);
    // Temperature and model depend on the machine (none in most containers): typed, not required.
    if (facts.temperatureC !== undefined) {
      expect(facts.temperatureC).toBeGreaterThan(-40);
      expect(facts.temperatureC).toBeLessThan(150);
    }
    if (facts.model !== undefined) expect(facts.model).not.toBe('');
    // The disk and memory probes must not have failed here.
    expect(facts.errors).not.toHaveProperty('disk');
    expect(facts.errors).not.toHaveProperty('memory');
  });

  it('measures the nearest existing ancestor of a state directory not created yet', async () => {
    const facts = await readHostFacts({ stateDir: path.join(dir, 'not', 'yet'), knownModel: 'x' });
    expect(facts.disk?.path).toBe(dir);
  });

  it('prefers the device tree model, without its NUL terminator', async () => {
    const modelFile = path.join(dir, 'model');
    await writeFile(modelFile, 'Raspberry Pi 4 Model B Rev 1.4\0');
    const facts = await readHostFacts({ stateDir: dir, deviceTreeModelPath: modelFile });
    expect(facts.model).toBe('Raspberry Pi 4 Model B Rev 1.4');
  });

  it('reports a probe that ran out of time as unknown instead of waiting or throwing', async () => {
    // 0 ms: every asynchronous probe loses the race against its timer.
    const facts = await readHostFacts({ stateDir: dir, timeoutMs: 0, knownModel: 'kept' });
    expect(facts.model).toBe('kept');
    expect(facts.memoryTotalBytes).toBeUndefined();
    expect(facts.disk).toBeUndefined();
    expect(facts.errors).toMatchObject({
      memory: 'timed out after 0 ms',
      disk: 'timed out after 0 ms',
      temperatureC: 'timed out after 0 ms',
    });
  });

  it('reports an unreadable state filesystem as an error, not an exception', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, '');
    const facts = await readHostFacts({ stateDir: path.join(file, 'sub'), knownModel: 'x' });
    expect(facts.disk).toBeUndefined();
    expect(facts.errors.disk).toMatch(/ENOTDIR/);
  });
});
