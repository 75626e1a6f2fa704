import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClusterParts } from './cluster/cluster-link.js';
import type { Config } from './config/settings.js';
import { AdbBackend } from './devices/adb-backend.js';
import { AdbDeviceIO } from './devices/adb/adb-io.js';
import { AdbServerProcess } from './devices/adb/adb-server.js';
import { AdbTracker } from './devices/adb/tracker.js';
import type { DeviceBackend } from './devices/backend.js';
import { HostBackend } from './devices/host-backend.js';
import { SlotBotDevices } from './devices/slot-bot-devices.js';
import { SlotManager } from './devices/slot-manager.js';
import { SlotStore } from './devices/slot-store.js';
import type { HostMonitor } from './host/host-monitor.js';
import { Lifecycle } from './lifecycle/lifecycle.js';

export interface DeviceParts {
  backend: DeviceBackend;
  /** Idle checks, sleep and wake of the phones; none without phones. */
  lifecycle: Lifecycle | undefined;
  clusterParts: ClusterParts;
  /** Why there are no phones, if there are none. */
  disabled?: string;
}

/**
 * The device side: one bot for the host, or the phones over adb, built in
 * this order: adb server → tracker → device I/O → slots (with their store) →
 * the bots' view of them → the backend that runs these → the lifecycle.
 */
export function buildDevices(
  config: Config,
  logger: Logger,
  registry: Registry,
  host: HostMonitor,
): DeviceParts {
  if (config.devices !== 'adb') {
    return {
      backend: new HostBackend(config.botId),
      lifecycle: undefined,
      clusterParts: {
        slots: () => [],
        onSlotChanged: () => () => undefined,
        lifecycle: undefined,
        host,
      },
      disabled: 'FARM_DEVICES=none: no phones are tracked; one bot for the host',
    };
  }
  const port = config.adbPort;
  const server = new AdbServerProcess({
    port,
    listen: config.adbListen,
    bin: config.adbBin,
    external: config.adbExternal,
    logger: logger.child({ component: 'adb-server' }),
    registry,
    onReady: () => backend.serverReady(),
  });
  const tracker = new AdbTracker({
    port,
    logger: logger.child({ component: 'adb-tracker' }),
    registry,
  });
  const io = new AdbDeviceIO({ port });
  const slots = new SlotManager({
    io,
    presence: tracker,
    store: new SlotStore({ stateDir: config.stateDir, logger }),
    node: config.nodeName,
    botIdPattern: config.botIdPattern,
    // The image creates /.dockerenv, as the Swarming bot itself checks.
    insideDocker: existsSync('/.dockerenv'),
    logger: logger.child({ component: 'slots' }),
    registry,
    refreshIntervalMs: config.deviceRefresh,
    rebootAfterTask: config.rebootAfterTask,
    thresholds: {
      minBatteryPercent: config.batteryMin,
      resumeBatteryPercent: config.batteryResume,
      maxTemperatureC: config.temperatureMax,
      resumeTemperatureC: config.temperatureResume,
    },
  });
  const botDevices = new SlotBotDevices(slots);
  const backend = new AdbBackend({ config, logger, server, tracker, manager: slots, botDevices });
  const lifecycle = new Lifecycle({
    manager: slots,
    io,
    action: config.sleepAction,
    intervalMs: config.idleCheckInterval,
    idleChecks: config.idleChecks,
    logger: logger.child({ component: 'lifecycle' }),
    registry,
  });
  return {
    backend,
    lifecycle,
    clusterParts: {
      slots: () => slots.slots(),
      onSlotChanged: (listener) => slots.onSlotChanged(listener),
      lifecycle,
      host,
    },
  };
}
