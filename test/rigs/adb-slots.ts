import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { AdbDeviceIO } from '../../agent/src/devices/adb/adb-io.js';
import { AdbTracker } from '../../agent/src/devices/adb/tracker.js';
import { SlotManager } from '../../agent/src/devices/slot-manager.js';
import type { SlotManagerOptions } from '../../agent/src/devices/slot-manager.js';
import { startAdbServer } from './adb-server.js';
import { testSlotOptions } from './scripted-slots.js';
import { startFakePhone } from './fake-adbd/index.js';
import type { PhoneScript } from './fake-adbd/index.js';

export interface AdbSlots {
  logger: Logger;
  registry: Registry;
  io: AdbDeviceIO;
  manager: SlotManager;
  tracker: AdbTracker;
}

/**
 * The real device layer over a real adb server: tracker, DeviceIO and a started SlotManager
 * (node `pi-1`, bot ids `{node}-{slot}`), reconciling every 200 ms because the tracker may
 * stay silent about a TCP phone for a while; `overrides` change any of it. `cleanup` receives
 * what stops them, in order.
 */
export async function startAdbSlots(
  adbPort: number,
  stateDir: string,
  cleanup: (stop: () => Promise<void>) => void,
  overrides: Partial<SlotManagerOptions> = {},
): Promise<AdbSlots> {
  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  const tracker = new AdbTracker({ port: adbPort, logger, registry });
  tracker.start();
  cleanup(() => tracker.stop());
  const io = new AdbDeviceIO({ port: adbPort });
  const manager = new SlotManager({
    io,
    presence: tracker,
    ...testSlotOptions(stateDir, logger, registry),
    refreshIntervalMs: 200,
    ...overrides,
  });
  await manager.start();
  cleanup(() => manager.stop());
  return { logger, registry, io, manager, tracker };
}

/**
 * The same layer with its own state directory, a real adb server and one fake phone per
 * script (TCP), as the end-to-end tests of what is built on slots need it. Everything
 * started is handed to `cleanup`, to be undone in reverse.
 */
export async function startAdbPhones(
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
  const slots = await startAdbSlots(server.port, dir, cleanup, options);
  return { ...slots, dir, server, phones, serials: phones.map((p) => p.serial) };
}
