import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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

  it("reads the CPU's thermal zone, skipping a zone that cannot be read", async () => {
    const thermal = path.join(dir, 'thermal');
    const zone = async (name: string, files: Record<string, string>) => {
      await mkdir(path.join(thermal, name), { recursive: true });
      for (const [file, text] of Object.entries(files)) {
        await writeFile(path.join(thermal, name, file), text);
      }
    };
    await zone('thermal_zone0', { type: 'acpitz\n', temp: '27800\n' });
    await zone('thermal_zone1', { type: 'cpu-thermal\n' }); // no temp: sensor unreadable
    await zone('thermal_zone10', { type: 'x86_pkg_temp\n', temp: '51234\n' });
    await writeFile(path.join(thermal, 'cooling_device0'), '');
    const facts = await readHostFacts({ stateDir: dir, knownModel: 'x', thermalDir: thermal });
    expect(facts.temperatureC).toBe(51.2);
    expect(facts.errors).not.toHaveProperty('temperatureC');
    const none = await readHostFacts({
      stateDir: dir,
      knownModel: 'x',
      thermalDir: path.join(dir, 'no-thermal'),
    });
    expect(none.temperatureC).toBeUndefined();
    expect(none.errors).not.toHaveProperty('temperatureC');
  });

  it('reports a probe that ran out of time as unknown instead of waiting or throwing', async () => {
    // FIFOs without a writer: reading them blocks until one opens and closes them.
    const meminfo = path.join(dir, 'meminfo.fifo');
    const thermal = path.join(dir, 'slow-thermal');
    const temp = path.join(thermal, 'thermal_zone0', 'temp');
    await mkdir(path.dirname(temp), { recursive: true });
    await writeFile(path.join(thermal, 'thermal_zone0', 'type'), 'cpu-thermal\n');
    execFileSync('mkfifo', [meminfo, temp]);
    try {
      const started = performance.now();
      const facts = await readHostFacts({
        stateDir: dir,
        timeoutMs: 300,
        knownModel: 'kept',
        memInfoPath: meminfo,
        thermalDir: thermal,
      });
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(facts.model).toBe('kept');
      expect(facts.memoryTotalBytes).toBeUndefined();
      expect(facts.temperatureC).toBeUndefined();
      expect(facts.disk?.path).toBe(dir);
      expect(facts.errors).toEqual({
        memory: 'timed out after 300 ms',
        temperatureC: 'timed out after 300 ms',
      });
    } finally {
      // Let the blocked reads end: a writer opens and closes each FIFO.
      await Promise.all([writeFile(meminfo, ''), writeFile(temp, '')]);
    }
  });

  it('reports an unreadable state filesystem as an error, not an exception', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, '');
    const facts = await readHostFacts({ stateDir: path.join(file, 'sub'), knownModel: 'x' });
    expect(facts.disk).toBeUndefined();
    expect(facts.errors.disk).toMatch(/ENOTDIR/);
  });
});
