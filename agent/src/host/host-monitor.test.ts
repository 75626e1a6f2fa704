import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { HostFacts, ReadHostFactsOptions } from './host-facts.js';
import type { HostMaintenance } from './host-maintenance.js';
import { HostMonitor } from './host-monitor.js';

const GiB = 1024 ** 3;

function reading(temperatureC: number | undefined): HostFacts {
  return {
    model: 'Raspberry Pi 4 Model B Rev 1.4',
    temperatureC,
    memoryTotalBytes: 4 * GiB,
    memoryAvailableBytes: 3 * GiB,
    disk: { path: '/var/lib/farm-agent', freeBytes: 20 * GiB, totalBytes: 32 * GiB },
    load: [0.5, 0.25, 0.125],
    uptimeSeconds: 1000,
    readAt: 0,
    errors: {},
  };
}

/** A monitor whose reader hands out the given temperatures in turn and records its calls. */
function monitorOf(temperatures: (number | undefined)[], intervalMs = 60_000) {
  const registry = new Registry();
  const calls: ReadHostFactsOptions[] = [];
  const monitor = new HostMonitor({
    stateDir: '/var/lib/farm-agent',
    logger: pino({ level: 'silent' }),
    registry,
    intervalMs,
    read: (options) => {
      calls.push(options);
      return Promise.resolve(
        reading(temperatures[Math.min(calls.length, temperatures.length) - 1]),
      );
    },
  });
  return { monitor, registry, calls };
}

async function sample(registry: Registry, name: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value;
}

describe('HostMonitor', () => {
  it('has the first reading when start resolves, and exports it as gauges', async () => {
    const { monitor, registry, calls } = monitorOf([61.5]);
    await monitor.start();
    try {
      expect(monitor.current().facts?.temperatureC).toBe(61.5);
      expect(calls[0]?.stateDir).toBe('/var/lib/farm-agent');
      expect(await sample(registry, 'farm_host_temperature_celsius')).toBe(61.5);
      expect(await sample(registry, 'farm_host_memory_available_bytes')).toBe(3 * GiB);
      expect(await sample(registry, 'farm_host_disk_free_bytes')).toBe(20 * GiB);
      expect(await sample(registry, 'farm_host_load1')).toBe(0.5);
    } finally {
      await monitor.stop();
    }
  });

  it('exports no sample for an unknown fact rather than a stale one', async () => {
    const { monitor, registry } = monitorOf([70, undefined]);
    await monitor.refresh();
    expect(await sample(registry, 'farm_host_temperature_celsius')).toBe(70);
    await monitor.refresh();
    expect(await sample(registry, 'farm_host_temperature_celsius')).toBeUndefined();
    expect(await registry.metrics()).not.toMatch(/^farm_host_temperature_celsius /m);
  });

  it('reads the model once and passes it back to later readings', async () => {
    const { monitor, calls } = monitorOf([50, 50]);
    await monitor.refresh();
    await monitor.refresh();
    expect(calls.map((c) => c.knownModel)).toEqual([undefined, 'Raspberry Pi 4 Model B Rev 1.4']);
  });

  it('tells listeners only when the maintenance reason changes, with hysteresis', async () => {
    const { monitor } = monitorOf([70, 85, 82, 78, 74, 74]);
    const seen: HostMaintenance[] = [];
    monitor.onMaintenanceChange((m) => seen.push(m));
    for (let i = 0; i < 6; i++) await monitor.refresh();
    // 85 starts it; 82 changes the reading in the reason; 78 too; 74 ends it; 74 again is quiet.
    expect(seen.map((m) => m.reason?.match(/SoC ([\d.]+)/)?.[1] ?? 'ok')).toEqual([
      '85.0',
      '82.0',
      '78.0',
      'ok',
    ]);
    expect(monitor.current().maintenance.hot).toBe(false);
  });

  it('polls every interval until stopped', async () => {
    const { monitor, calls } = monitorOf([50], 20);
    await monitor.start();
    await expect.poll(() => calls.length, { timeout: 2_000 }).toBeGreaterThanOrEqual(3);
    await monitor.stop();
    const after = calls.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls.length).toBe(after);
  });
});
