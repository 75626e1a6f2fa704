/**
 * The adb layer wired as the agent wires it: a supervised adb server of its own, the
 * tracker and DeviceIO, two fake phones; the server is killed and the layer converges
 * again after the supervisor restarted it. TCP phones must be connected again on a new
 * server (it forgets them), which onReady does with the serials the tracker knew.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { AdbDeviceIO } from '../../agent/src/devices/adb/adb-io.js';
import { AdbServerProcess } from '../../agent/src/devices/adb/adb-server.js';
import { reconnectTcp } from '../../agent/src/devices/adb/tcp-devices.js';
import { AdbTracker } from '../../agent/src/devices/adb/tracker.js';
import { ADB_BIN } from '../rigs/adb-server.js';
import { startFakePhone } from '../rigs/fake-adbd/index.js';
import type { FakePhone } from '../rigs/fake-adbd/index.js';
import { freePort } from '../rigs/ports.js';
import { waitFor } from '../rigs/test-bots.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('serves two phones, survives the adb server being killed, and converges again', async () => {
  const home = await mkdtemp(join(tmpdir(), 'adb-layer-'));
  cleanups.push(() => rm(home, { recursive: true, force: true }));
  const phones: FakePhone[] = [
    await startFakePhone({ props: { 'ro.product.model': 'Phone A' } }),
    await startFakePhone({ props: { 'ro.product.model': 'Phone B' } }),
  ];
  cleanups.push(async () => void (await Promise.all(phones.map((p) => p.close()))));
  const serials = phones.map((p) => p.serial);

  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  const port = await freePort();
  const known = new Set<string>(serials);
  let readyCount = 0;
  const reconnected: Promise<unknown>[] = [];
  const server = new AdbServerProcess({
    port,
    bin: ADB_BIN,
    logger,
    registry,
    env: { ...process.env, HOME: home, ANDROID_SDK_HOME: home, ADB_MDNS: '0' },
    restartBackoff: { initialMs: 100, maxMs: 1000 },
    onReady: () => {
      readyCount += 1;
      // What the composition root does: a fresh server knows no TCP device (every phone here is
      // one).
      reconnected.push(reconnectTcp({ port }, [...known], 3000));
    },
  });
  const tracker = new AdbTracker({
    port,
    logger,
    registry,
    reconcileIntervalMs: 500,
    reconnectBackoff: { initialMs: 100, maxMs: 500 },
  });
  const io = new AdbDeviceIO({ port });
  tracker.onChange((serial) => known.add(serial));
  server.start();
  tracker.start();
  cleanups.push(() => server.stop());
  cleanups.push(() => tracker.stop());

  const allDevice = () => serials.every((s) => tracker.devices().get(s)?.type === 'device');
  await waitFor('both phones tracked', allDevice, 5000);
  const models = await Promise.all(
    serials.map((s) => io.shell(s, 'getprop ro.product.model', 2000)),
  );
  expect(models).toEqual(['Phone A\n', 'Phone B\n']);

  const killedAt = Date.now();
  process.kill(server.pid as number, 'SIGKILL');
  await waitFor('restarted', () => readyCount === 2, 5000);
  // The tracker keeps its list through a short outage, so "converged" means: tracking
  // the new server again, and both phones `device` on it.
  const trackerReconnects = async () =>
    (await registry.getSingleMetric('farm_adb_tracker_reconnects_total')?.get())?.values[0]?.value;
  for (const deadline = Date.now() + 5000; (await trackerReconnects()) !== 1;) {
    if (Date.now() > deadline) throw new Error('the tracker did not reconnect');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await waitFor('both phones tracked again', allDevice, 5000);
  const convergedMs = Date.now() - killedAt;
  expect(await Promise.all(reconnected)).toEqual([
    serials.map((serial) => ({ serial })),
    serials.map((serial) => ({ serial })),
  ]);
  expect(await io.shell(serials[1] as string, 'getprop ro.product.model', 2000)).toBe('Phone B\n');
  const restarts = await registry.getSingleMetric('farm_adb_server_restarts_total')?.get();
  expect(restarts?.values).toEqual([{ labels: { reason: 'exit' }, value: 1 }]);
  console.log(`adb layer: converged ${convergedMs} ms after the adb server was killed`);
});
