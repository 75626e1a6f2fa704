import { DEFAULT_RECOVERY_THRESHOLDS, evaluateSlotHealth } from './health.js';
import type { RecoveryThresholds } from '../config/recovery-thresholds.js';
import type { RecoveryNote, SlotHealth, SlotObservation } from './health.js';
import type { UsbPresence } from './usb-presence.js';
import type { Battery } from './parse/battery.js';
import type { PowerSupply } from './parse/power-supply.js';
import { DEFAULT_WEAR_THRESHOLDS, batteryWear, wearProblem } from './battery-wear.js';
import type { WearThresholds } from '../config/battery-care.js';
import type { ThermalReading } from './parse/thermal.js';
import type { DeviceDimensions } from './swarming-dimensions.js';

export interface Overrides {
  maintenance?: string;
  quarantine?: string;
}

export type AbsentOnPurpose = NonNullable<SlotObservation['absentOnPurpose']>;

/** One slot as the rest of the agent sees it: a copy, safe to keep. */
export interface Slot {
  /** `usb:1-1.3`, or a TCP device's serial. */
  key: string;
  name: string;
  index: number;
  botId: string;
  /** The phone in the slot, or the last one seen there. */
  serial?: string;
  /** adb's state for the phone; undefined while adb does not list it. */
  adbState?: string;
  /** The current phone's properties; undefined until read. */
  props?: ReadonlyMap<string, string>;
  /** The device-owned Swarming dimensions the slot reports now. */
  dimensions: DeviceDimensions;
  /** `device_type` of the last phone whose properties were read here. */
  deviceTypes: string[];
  battery?: Battery;
  /** The kernel's battery files, where readable. */
  powerSupply?: PowerSupply;
  /** Why the current phone's battery is worn out; stays until another phone takes the slot. */
  worn?: string;
  /** Hottest Celsius reading of the battery and the thermal HAL. */
  temperatureC?: number;
  thermal?: ThermalReading[];
  uptimeSeconds?: number;
  bootCompleted: boolean;
  /** When adb last listed the phone (ms since the epoch). */
  lastSeen?: number;
  /**
   * Readings that failed in the last interrogation, by field (`battery`,
   * `thermal`, `uptimeSeconds`, `bootCompleted`, `props`): `battery unreadable: ...`.
   */
  readingErrors: Record<string, string>;
  health: SlotHealth;
  overrides: Overrides;
  taskRunning: boolean;
  absentOnPurpose?: AbsentOnPurpose;
}

export interface BotSlot {
  botId: string;
  slot: string;
  /** For `ANDROID_SERIAL`; undefined when the slot never had a phone since the agent started. */
  serial?: string;
}

export interface RebootInProgress {
  uptimeBefore?: number;
  /** adb stopped listing the phone as `device` since the reboot was asked for. */
  sawGone: boolean;
  timer: unknown;
}

/**
 * The mutable record behind a Slot: the same readings, plus what only the
 * manager needs. `health` is unset until the first evaluation; `deviceTypes`
 * and `absentOnPurpose` are derived when a Slot is handed out.
 */
export interface SlotState extends Omit<
  Slot,
  'health' | 'deviceTypes' | 'absentOnPurpose' | 'worn'
> {
  /**
   * Dimensions derived from the last properties read in this slot (or loaded from the store):
   * they outlive the phone's absence, so a phone put to sleep keeps matching its tasks.
   */
  lastDimensions?: DeviceDimensions;
  /** Properties must be (re-)read: the phone attached, came back or rebooted. */
  propsStale: boolean;
  health?: SlotHealth;
  /** The lifecycle put the phone to sleep (any sleep action). */
  asleep: boolean;
  /** The agent cut the port's power (to sleep), or it is on again and the phone not back yet. */
  poweredOff: boolean;
  /** Charge control cut the port to keep the battery in its band, or is bringing it back. */
  resting: boolean;
  reboot?: RebootInProgress;
  /** The reboot after a task missed its deadline; cleared once the phone is back and booted. */
  rebootFailure?: string;
  /** The phone whose battery was found worn, and why: a latch, since heat comes and goes. */
  wornBattery?: { serial: string; reason: string };
  /** What the wear was last judged from (see watchWear). */
  wearJudged?: WearJudged;
  /** The copy of `dimensions` snapshots hand out, and the object it copies (see snapshot). */
  shownDimensions?: { of: DeviceDimensions; copy: DeviceDimensions };
  /** The recovery ladder's word on the slot, while it has one. */
  recovery?: RecoveryNote;
  /** The kernel's view of the slot's USB port, read while the phone is not usable in adb. */
  usb?: UsbPresence;
  refreshing?: Promise<void>;
  /** What listeners last saw, to emit only real changes (see `changedSince`). */
  emitted?: Emitted;
}

/** A slot as told to listeners, and its fingerprint once one was needed. */
export interface Emitted {
  readonly shown: Slot;
  print?: string;
}

/**
 * What health is decided from. A phone rebooted on purpose shows `offline`
 * until it is back: it is away on purpose then, and until it has been seen to
 * reboot, a boot_completed of 1 is the old boot's.
 */
function observationOf(slot: SlotState, adbDown: string | undefined): SlotObservation {
  const rebooting = slot.reboot !== undefined;
  const absentOnPurpose = absentOnPurposeOf(slot);
  const propsUnreadable = slot.readingErrors['props'];
  const worn = wornReason(slot);
  return {
    ...(adbDown === undefined ? {} : { adbDown }),
    adbState: rebooting && slot.adbState !== 'device' ? undefined : slot.adbState,
    bootCompleted: slot.bootCompleted && !rebooting,
    batteryPercent: slot.battery?.percent,
    maxTemperatureC: slot.temperatureC,
    lastDeviceTypes: slot.lastDimensions?.device_type ?? [],
    ...(absentOnPurpose === undefined ? {} : { absentOnPurpose }),
    asleep: slot.asleep,
    ...(worn === undefined ? {} : { batteryWorn: worn }),
    ...(slot.rebootFailure === undefined ? {} : { rebootFailure: slot.rebootFailure }),
    ...(propsUnreadable === undefined ? {} : { propsUnreadable }),
    taskRunning: slot.taskRunning,
    operator: slot.overrides,
    ...(slot.serial === undefined ? {} : { serial: slot.serial }),
    ...(slot.usb === undefined ? {} : { usb: slot.usb }),
    ...(slot.recovery === undefined ? {} : { recovery: slot.recovery }),
  };
}

/** The worn-battery reason of the phone in the slot now. */
function wornReason(slot: SlotState): string | undefined {
  const worn = slot.wornBattery;
  return worn !== undefined && worn.serial === slot.serial ? worn.reason : undefined;
}

/** The readings and thresholds a wear judgement was made from. */
interface WearJudged {
  serial: string;
  battery: Battery | undefined;
  powerSupply: PowerSupply | undefined;
  thresholds: WearThresholds;
}

/**
 * Latches a worn battery the first time the readings show it. Each reading is a new object, so
 * the same objects judged again (a task start or end, an override) give the same verdict:
 * they are not judged again.
 */
function watchWear(slot: SlotState, thresholds: WearThresholds): void {
  if (slot.serial === undefined || wornReason(slot) !== undefined) return;
  if (slot.battery === undefined && slot.powerSupply === undefined) return;
  const judged = slot.wearJudged;
  if (
    judged?.serial === slot.serial &&
    judged.battery === slot.battery &&
    judged.powerSupply === slot.powerSupply &&
    judged.thresholds === thresholds
  ) {
    return;
  }
  slot.wearJudged = {
    serial: slot.serial,
    battery: slot.battery,
    powerSupply: slot.powerSupply,
    thresholds,
  };
  const reason = wearProblem(batteryWear(slot.battery, slot.powerSupply), thresholds);
  if (reason !== undefined) slot.wornBattery = { serial: slot.serial, reason };
}

/**
 * Health and dimensions of the slot as it is now. `now` dates the state: a
 * state other than ready carries since when it holds and when the slot was
 * last ready (the moment it stopped being ready).
 */
export function derive(
  slot: SlotState,
  adbDown: string | undefined,
  noDevice: DeviceDimensions,
  thresholds: RecoveryThresholds = DEFAULT_RECOVERY_THRESHOLDS,
  wear: WearThresholds = DEFAULT_WEAR_THRESHOLDS,
  now?: number,
): void {
  watchWear(slot, wear);
  const previous = slot.health;
  const health = evaluateSlotHealth(observationOf(slot, adbDown), previous, thresholds);
  if (now !== undefined && health.state !== 'ready') {
    health.since = previous?.state === health.state ? (previous.since ?? now) : now;
    const lastReadyAt = previous?.state === 'ready' ? now : previous?.lastReadyAt;
    if (lastReadyAt !== undefined) health.lastReadyAt = lastReadyAt;
  }
  slot.health = health;
  slot.dimensions = dimensionsOf(slot, noDevice);
}

/**
 * The phone's dimensions while adb lists it and its properties are read,
 * or while it is away on purpose (an idle phone powered off must keep
 * matching its tasks: the next one wakes it); otherwise no device.
 */
function dimensionsOf(slot: SlotState, noDevice: DeviceDimensions): DeviceDimensions {
  const phone =
    slot.adbState === undefined ? absentOnPurposeOf(slot) !== undefined : slot.props !== undefined;
  return phone && slot.lastDimensions !== undefined ? slot.lastDimensions : noDevice;
}

/**
 * Fields that change without anything happening: the clock moves on every
 * listing and read, and props only change together with the dimensions.
 */
const UNCOMPARED = new Set(['lastSeen', 'uptimeSeconds', 'props']);

/** A text that changes only when the slot changes in a way listeners care about. */
export function fingerprint(slot: Slot): string {
  return JSON.stringify(slot, (key, value: unknown) => (UNCOMPARED.has(key) ? undefined : value));
}

/**
 * Whether listeners must hear of `shown`: when its fingerprint differs from the last one told.
 * A task starting or ending flips `taskRunning` and usually the health state, both in the
 * fingerprint, so that answer needs no fingerprint, and the task hooks make none before they
 * answer; the last one told is fingerprinted at the next change that needs it. A snapshot is
 * never changed once made (its parts are replaced, not edited), so that print is the one it had.
 * Returns what to keep as the last one told, undefined when nothing changed.
 */
export function changedSince(last: Emitted | undefined, shown: Slot): Emitted | undefined {
  if (
    last === undefined ||
    last.shown.taskRunning !== shown.taskRunning ||
    last.shown.health.state !== shown.health.state
  ) {
    return { shown };
  }
  last.print ??= fingerprint(last.shown);
  const print = fingerprint(shown);
  return print === last.print ? undefined : { shown, print };
}

export function absentOnPurposeOf(slot: SlotState): AbsentOnPurpose | undefined {
  if (slot.reboot !== undefined) return 'rebooting';
  if (slot.poweredOff) return 'powered-off';
  return slot.resting ? 'resting' : undefined;
}

/** The slot's health; every slot the manager hands out was evaluated when it was made. */
export function healthOf(slot: SlotState): SlotHealth {
  if (slot.health === undefined) throw new Error(`slot ${slot.key} was never evaluated`);
  return slot.health;
}

/** One slot as handed out: a copy, safe to keep. */
export function snapshot(slot: SlotState): Slot {
  const health = healthOf(slot);
  const copy: Slot = {
    key: slot.key,
    name: slot.name,
    index: slot.index,
    botId: slot.botId,
    dimensions: shownDimensions(slot),
    deviceTypes: [...(slot.lastDimensions?.device_type ?? [])],
    bootCompleted: slot.bootCompleted,
    readingErrors: { ...slot.readingErrors },
    health,
    overrides: { ...slot.overrides },
    taskRunning: slot.taskRunning,
  };
  const absentOnPurpose = absentOnPurposeOf(slot);
  if (slot.serial !== undefined) copy.serial = slot.serial;
  if (slot.adbState !== undefined) copy.adbState = slot.adbState;
  if (slot.props !== undefined) copy.props = slot.props;
  if (slot.battery !== undefined) copy.battery = slot.battery;
  if (slot.powerSupply !== undefined) copy.powerSupply = slot.powerSupply;
  const worn = wornReason(slot);
  if (worn !== undefined) copy.worn = worn;
  if (slot.temperatureC !== undefined) copy.temperatureC = slot.temperatureC;
  if (slot.thermal !== undefined) copy.thermal = slot.thermal;
  if (slot.uptimeSeconds !== undefined) copy.uptimeSeconds = slot.uptimeSeconds;
  if (slot.lastSeen !== undefined) copy.lastSeen = slot.lastSeen;
  if (absentOnPurpose !== undefined) copy.absentOnPurpose = absentOnPurpose;
  return copy;
}

/**
 * A copy of the slot's dimensions, made once per dimensions object: the slot's are replaced,
 * never edited in place, and so are a snapshot's, so the snapshots of the same dimensions (one
 * per task start and end) can share one copy.
 */
function shownDimensions(slot: SlotState): DeviceDimensions {
  const shown = slot.shownDimensions;
  if (shown?.of === slot.dimensions) return shown.copy;
  const copy = copyDimensions(slot.dimensions);
  slot.shownDimensions = { of: slot.dimensions, copy };
  return copy;
}

function copyDimensions(dimensions: DeviceDimensions): DeviceDimensions {
  return Object.fromEntries(
    Object.entries(dimensions).map(([key, values]) => [key, [...values]]),
  ) as DeviceDimensions;
}
