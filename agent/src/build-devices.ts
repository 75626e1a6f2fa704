import { existsSync } from 'node:fs';
import { systemClock } from '@farm-agent/bot-config/lib';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClusterParts } from './cluster/cluster-link.js';
import type { Config } from './config/settings.js';
import { AdbBackend } from './devices/adb-backend.js';
import { AdbDeviceIO } from './devices/adb/adb-io.js';
import { AdbServerProcess } from './devices/adb/adb-server.js';
import { AdbTracker } from './devices/adb/tracker.js';
import type { DeviceBackend } from './devices/backend.js';
import type { Slot } from './devices/slot-state.js';
import { HostBackend } from './devices/host-backend.js';
import { SlotBotDevices } from './devices/slot-bot-devices.js';
import { SlotManager } from './devices/slot-manager.js';
import { SlotStore } from './devices/slot-store.js';
import type { HostMonitor } from './host/host-monitor.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { PortPower } from './power/port-power.js';
import { readPortsAsSlotsAppear } from './power/slot-ports.js';
import { TaskPowerClaims } from './power/task-claims.js';
import { BatteryMetrics } from './battery/battery-metrics.js';
import type { ChargeControl } from './battery/charge-control.js';
import { chargeControlFor } from './battery/charge-setup.js';
import type { RecoveryLadder } from './recovery/recovery-ladder.js';
import { recoveryFromSettings } from './recovery/recovery-setup.js';
import type { RecoveryParts } from './recovery/recovery-setup.js';

/** Bound on one uhubctl run (a cycle adds its off time). */
const POWER_COMMAND_TIMEOUT_MS = 15_000;

/** What the device side asks of the rest of the agent, which is built around it. */
export interface AgentHooks extends Pick<RecoveryParts, 'taskRunning' | 'event'> {
  /** Whether the farm gate holds this slot awake (hot standby): idle checks never put it to sleep. */
  heldAwake: (slot: Slot) => boolean;
}

export interface DeviceParts {
  backend: DeviceBackend;
  /** Idle checks, sleep and wake of the phones; none without phones. */
  lifecycle: Lifecycle | undefined;
  /** The one owner of the phones' USB port power; none without phones. */
  power?: PortPower;
  /** Keeps idle phones' batteries in the band; none unless FARM_CHARGE_CONTROL. */
  charge?: ChargeControl | undefined;
  /** The self-healing ladder; none without phones or with FARM_RECOVERY=false. */
  recovery?: RecoveryLadder | undefined;
  clusterParts: ClusterParts;
  /** Why there are no phones, if there are none. */
  disabled?: string;
}

/**
 * The device side: one bot for the host, or the phones over adb, built in
 * this order: adb server → tracker → device I/O → slots (with their store) →
 * the port power owner → the bots' view of the slots (a task claims its port)
 * → the backend that runs these → charge control → the lifecycle → the
 * recovery ladder.
 */
export function buildDevices(
  config: Config,
  logger: Logger,
  registry: Registry,
  host: HostMonitor,
  agent: AgentHooks,
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
    wear: {
      hotChargingC: config.batteryHotCharging,
      capacityMinPercent: config.batteryCapacityMin,
    },
  });
  const batteryMetrics = new BatteryMetrics(
    registry,
    { lowPercent: config.chargeBandLow, highPercent: config.chargeBandHigh },
    systemClock,
  );
  slots.onSlotReported((slot) => batteryMetrics.observe(slot));
  const power = new PortPower({
    timeoutMs: POWER_COMMAND_TIMEOUT_MS,
    machineModel: () => host.current().facts?.model,
    logger: logger.child({ component: 'power' }),
  });
  readPortsAsSlotsAppear(power, slots);
  const taskClaims = new TaskPowerClaims({
    power,
    taskRunning: agent.taskRunning,
    logger: logger.child({ component: 'power' }),
  });
  const botDevices = new SlotBotDevices(slots, systemClock, taskClaims);
  const backend = new AdbBackend({ config, logger, server, tracker, manager: slots, botDevices });
  const charge = chargeControlFor(config, slots, power, logger);
  const lifecycle = new Lifecycle({
    manager: slots,
    io,
    action: config.sleepAction,
    power,
    // A task or wake beats charge control: the port's power comes back first.
    ...(charge && { beforeWake: (key, reason) => charge.restoreFor(key, reason) }),
    intervalMs: config.idleCheckInterval,
    idleChecks: config.idleChecks,
    heldAwake: agent.heldAwake,
    logger: logger.child({ component: 'lifecycle' }),
    registry,
  });
  const recovery = recoveryFromSettings(config, {
    taskRunning: agent.taskRunning,
    event: agent.event,
    slots,
    io,
    power,
    logger: logger.child({ component: 'recovery' }),
    registry,
  });
  return {
    backend,
    lifecycle,
    power,
    charge,
    recovery,
    clusterParts: {
      slots: () => slots.slots(),
      // The cluster only reports changes: it hears of them after the turn that made them.
      onSlotChanged: (listener) => slots.onSlotReported(listener),
      lifecycle,
      host,
    },
  };
}
