import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { DeviceIO } from '../devices/device-io.js';
import type { SlotManager } from '../devices/slot-manager.js';
import type { Slot } from '../devices/slot-state.js';
import type { UhubctlTarget } from '../devices/slot.js';
import type { CommandRunner } from '../power/commands.js';
import type { PortPower } from '../power/port-power.js';
import type { SleepReason, WakeReason } from './lifecycle-metrics.js';
import type { SleepAction } from '../config/sleep-action.js';

export type { SleepReason, WakeReason };

/** The lifecycle's options and the shapes its callers receive. */
export type LifecycleEvent =
  | { type: 'slept'; slot: string; reason: SleepReason }
  | { type: 'woke'; slot: string; reason: WakeReason };

export interface LifecycleOptions {
  manager: SlotManager;
  io: DeviceIO;
  action: SleepAction;
  /** FARM_IDLE_CHECK_INTERVAL. */
  intervalMs?: number;
  /** FARM_IDLE_CHECKS: idle checks in a row that put a slot to sleep. */
  idleChecks?: number;
  /** How long a woken slot counts as active. Default: one interval. */
  holdMs?: number;
  /**
   * Slots the farm gate holds awake as hot standby (the Node's `farm-agent.io/hold-awake`):
   * they count as active in every idle check, so they are never put to sleep. Default: none.
   */
  heldAwake?: (slot: Slot) => boolean;
  tcpTables?: readonly string[];
  adbPorts?: readonly number[];
  /** The owner of port power (usb-power); default: one of its own running `run`. */
  power?: PortPower;
  /** Runs uhubctl when the lifecycle makes its own power owner. */
  run?: CommandRunner;
  /**
   * The hub port that powers a slot's phone. Default: from the slot key
   * (`usb:1-1.3` → `-l 1-1 -p 3`); null for network phones.
   */
  powerTarget?: (slot: Slot) => UhubctlTarget | null;
  /** For `input keyevent` and `uhubctl`. Default 15 s. */
  commandTimeoutMs?: number;
  /** How long a powered-on phone may take to show in adb before it counts as missing. Default 60 s. */
  powerOnDeadlineMs?: number;
  /**
   * Called before a slot is woken or awaited for a task, with the phone possibly away on
   * another's purpose (charge control resting it): it resolves once the phone may be woken.
   */
  beforeWake?: (key: string, reason: WakeReason) => Promise<unknown>;
  logger: Logger;
  registry: Registry;
  clock?: Clock;
}

export interface WakeResult {
  /** Keys of the slots that were asleep and were woken. */
  woke: string[];
  /** Every slot asked for is awake and ready (or running a task). */
  ready: boolean;
}

export interface SleepResult {
  slept: string[];
  /** Slots left awake, and why. */
  skipped: { slot: string; reason: string }[];
}

/** A slot with its lifecycle, for the wake page and its JSON. */
export interface LifecycleSlot {
  slot: Slot;
  idleChecks: number;
  asleep: boolean;
  ready: boolean;
}
