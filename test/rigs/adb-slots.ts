import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { AdbDeviceIO } from '../../agent/src/devices/adb/adb-io.js';
import { AdbTracker } from '../../agent/src/devices/adb/tracker.js';
import { SlotManager } from '../../agent/src/devices/slot-manager.js';
import type { SlotManagerOptions } from '../../agent/src/devices/slot-manager.js';
import { SlotStore } from '../../agent/src/devices/slot-store.js';
import { startAdbServer } from './adb-server.js';
import { startFakePhone } from './fake-adbd/index.js';
import type { PhoneScript } from './fake-adbd/index.js';

/**
 * The real adb layer over fake phones, as the end-to-end tests of what is built on
 * slots need it: a real adb server, one fake phone per script (TCP), AdbTracker,
 * AdbDeviceIO and a started SlotManager (node `pi-1`, bot ids `{node}-{slot}`,
 * refreshing every 200 ms: the tracker may stay silent about a TCP phone for a
 * while). Everything started is handed to `cleanup`, to be undone in reverse.
 */
export async function startAdbSlots(
  prefix: string,
  scripts: PhoneScript[],
  cleanup: (undo: () => Promise<unknown>) => void,
  options: Partial<SlotManagerOptions> = {},
) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup(() => rm(dir, { recursive: true, force: true }));
  const server = await startAdbServer();
  cleanup(() => server.stop());
  const phones = await Promise.all(scripts.map((script) => startFakePhone(script)));
  cleanup(() => Promise.all(phones.map((p) => p.close())));
  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  const tracker = new AdbTracker({ port: server.port, logger, registry });
  tracker.start();
  cleanup(() => tracker.stop());
  const io = new AdbDeviceIO({ port: server.port });
  const manager = new SlotManager({
    io,
    presence: tracker,
    store: new SlotStore({ stateDir: dir, logger }),
    node: 'pi-1',
    botIdPattern: '{node}-{slot}',
    insideDocker: false,
    logger,
    registry,
    refreshIntervalMs: 200,
    ...options,
  });
  await manager.start();
  cleanup(() => manager.stop());
  return {
    dir,
    server,
    phones,
    serials: phones.map((p) => p.serial),
    io,
    manager,
    logger,
    registry,
  };
}
