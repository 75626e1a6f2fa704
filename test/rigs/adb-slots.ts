import pino from 'pino';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { AdbDeviceIO } from '../../agent/src/devices/adb/adb-io.js';
import { AdbTracker } from '../../agent/src/devices/adb/tracker.js';
import { SlotManager } from '../../agent/src/devices/slot-manager.js';
import type { SlotManagerOptions } from '../../agent/src/devices/slot-manager.js';
import { SlotStore } from '../../agent/src/devices/slot-store.js';

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
    store: new SlotStore({ stateDir, logger }),
    node: 'pi-1',
    botIdPattern: '{node}-{slot}',
    insideDocker: false,
    logger,
    registry,
    refreshIntervalMs: 200,
    ...overrides,
  });
  await manager.start();
  cleanup(() => manager.stop());
  return { logger, registry, io, manager, tracker };
}
