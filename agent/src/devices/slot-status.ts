import type { Slot } from './slot-manager.js';

/** Properties a person needs to recognise a phone; the full getprop dump stays out of /status. */
const SHOWN_PROPS = [
  'ro.product.model',
  'ro.product.brand',
  'ro.product.device',
  'ro.build.version.release',
  'ro.build.id',
] as const;

/** A slot as /status and `farm-agent devices` show it: plain JSON, no Maps. */
export function describeSlot(slot: Slot): Record<string, unknown> {
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
