import type { Battery } from './parse/battery.js';
import type { Slot } from './slot-state.js';
import { batteryWear } from './battery-wear.js';
import type { BatteryWear } from './battery-wear.js';

/** Properties a person needs to recognise a phone; the full getprop dump stays out of /status. */
const SHOWN_PROPS = [
  'ro.product.model',
  'ro.product.brand',
  'ro.product.device',
  'ro.build.version.release',
  'ro.build.id',
] as const;

/** A slot as /status and `farm-agent devices` show it: plain JSON, no Maps. */
export interface SlotStatus {
  /** The slot's key (USB port path or TCP serial). */
  slot: Slot['key'];
  name: Slot['name'];
  index: Slot['index'];
  botId: Slot['botId'];
  serial: Slot['serial'];
  /** null while adb does not list the phone. */
  adbState: NonNullable<Slot['adbState']> | null;
  state: Slot['health']['state'];
  reason: Slot['health']['reason'];
  swarming: Slot['health']['swarming'];
  /** For every state but ready: what is wrong, what the agent knows, what to do. */
  diagnosis: Slot['health']['diagnosis'];
  explanation: Slot['health']['explanation'];
  suggestedAction: Slot['health']['suggestedAction'];
  /** ISO time the slot entered its state (not for ready). */
  since: string | undefined;
  /** ISO time the slot was last ready, if it was since the agent started (not for ready). */
  lastReadyAt: string | undefined;
  batteryPercent: Battery['percent'] | undefined;
  /** The power sources the phone is plugged into (`usb`, `ac`...); empty when on battery. */
  charging: Battery['plugged'] | undefined;
  /** Health, capacity, cycles and charge counter, where the phone reports them. */
  battery: BatteryWear | undefined;
  /** Why the battery took the phone out of service. */
  worn: Slot['worn'];
  temperatureC: Slot['temperatureC'];
  uptimeSeconds: Slot['uptimeSeconds'];
  bootCompleted: Slot['bootCompleted'];
  /** ISO time adb last listed the phone. */
  lastSeen: string | undefined;
  taskRunning: Slot['taskRunning'];
  overrides: Slot['overrides'];
  absentOnPurpose: Slot['absentOnPurpose'];
  readingErrors: Slot['readingErrors'];
  dimensions: Slot['dimensions'];
  /** The few properties in SHOWN_PROPS; undefined until they are read. */
  props: Record<string, string | undefined> | undefined;
}

export function describeSlot(slot: Slot): SlotStatus {
  const props = slot.props
    ? Object.fromEntries(
        SHOWN_PROPS.flatMap((k) => (slot.props?.has(k) ? [[k, slot.props.get(k)]] : [])),
      )
    : undefined;
  return {
    slot: slot.key,
    name: slot.name,
    index: slot.index,
    botId: slot.botId,
    serial: slot.serial,
    adbState: slot.adbState ?? null,
    state: slot.health.state,
    reason: slot.health.reason,
    swarming: slot.health.swarming,
    diagnosis: slot.health.diagnosis,
    explanation: slot.health.explanation,
    suggestedAction: slot.health.suggestedAction,
    since: isoTime(slot.health.since),
    lastReadyAt: isoTime(slot.health.lastReadyAt),
    batteryPercent: slot.battery?.percent,
    charging: slot.battery?.plugged,
    battery:
      slot.battery === undefined && slot.powerSupply === undefined
        ? undefined
        : batteryWear(slot.battery, slot.powerSupply),
    worn: slot.worn,
    temperatureC: slot.temperatureC,
    uptimeSeconds: slot.uptimeSeconds,
    bootCompleted: slot.bootCompleted,
    lastSeen: isoTime(slot.lastSeen),
    taskRunning: slot.taskRunning,
    overrides: slot.overrides,
    absentOnPurpose: slot.absentOnPurpose,
    readingErrors: slot.readingErrors,
    dimensions: slot.dimensions,
    props,
  };
}

function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
