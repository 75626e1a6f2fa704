import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ReportedEvent } from '../cluster/event-dedupe.js';
import type { Config } from '../config/settings.js';
import type { DeviceIO } from '../devices/device-io.js';
import type { PortPower } from '../power/port-power.js';
import { adbRecoveryActions } from './recovery-actions.js';
import { RecoveryLadder } from './recovery-ladder.js';
import type { LadderSlots } from './recovery-ladder.js';
import { readUsbPresence } from './usb-sysfs.js';

/** How often the ladder looks at the slots; the grace and step timeouts are the settings. */
const CHECK_INTERVAL_MS = 10_000;
/** Bound on one adb request of a rung (reconnect, reboot). */
const COMMAND_TIMEOUT_MS = 15_000;

export interface RecoveryParts {
  slots: LadderSlots;
  io: DeviceIO;
  power: PortPower;
  /** Whether the bot runs a task now (the hook ledger). */
  taskRunning: (botId: string) => boolean;
  event: (event: ReportedEvent) => void;
  logger: Logger;
  registry: Registry;
}

/** The recovery ladder from the settings, or undefined with FARM_RECOVERY=false. */
export function recoveryFromSettings(
  config: Config,
  parts: RecoveryParts,
): RecoveryLadder | undefined {
  if (!config.recovery) return undefined;
  return new RecoveryLadder({
    slots: parts.slots,
    actions: adbRecoveryActions({ port: config.adbPort }, parts.io),
    power: parts.power,
    taskRunning: (slot) => parts.taskRunning(slot.botId),
    readUsb: (key) => readUsbPresence(config.usbSysfs, key),
    settings: {
      graceMs: config.recoveryGrace,
      bootGraceMs: config.recoveryBootGrace,
      rungTimeoutMs: config.recoveryStepTimeout,
      cycleOffMs: config.powerCycleOff,
      checkIntervalMs: CHECK_INTERVAL_MS,
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      hygiene: { maxUptimeMs: config.maxUptime, everyTasks: config.rebootEveryTasks },
      budget: {
        failures: config.recoveryFailures,
        windowMs: config.recoveryWindow,
        coolOffMs: config.recoveryCoolOff,
      },
    },
    event: parts.event,
    logger: parts.logger,
    registry: parts.registry,
  });
}
