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
    lastSeen: slot.lastSeen === undefined ? undefined : new Date(slot.lastSeen).toISOString(),
    taskRunning: slot.taskRunning,
    overrides: slot.overrides,
    absentOnPurpose: slot.absentOnPurpose,
    readingErrors: slot.readingErrors,
    dimensions: slot.dimensions,
    props,
  };
}
