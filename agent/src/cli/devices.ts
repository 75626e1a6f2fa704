import { resolveSlotRef } from '../devices/slot-ref.js';
import { formatTable } from './table.js';

/** The slot fields `farm-agent devices` shows, as /status serves them. */
export interface SlotSummary {
  slot?: string;
  botId: string;
  serial?: string;
  state?: string;
  /** Short: what is wrong (`offline`, `not on USB (cable, hub or power)`); none when ready. */
  diagnosis?: string;
  reason?: string;
  batteryPercent?: number;
  temperatureC?: number;
  props?: Record<string, string>;
}

const dash = (value: unknown): string =>
  value === undefined || value === null ? '-' : String(value);

export function formatDevices(slots: SlotSummary[]): string {
  if (slots.length === 0)
    return 'no phone slots yet (no phone has been attached since the state was created)';
  return formatTable(
    ['SLOT', 'BOT', 'SERIAL', 'MODEL', 'STATE', 'WHY', 'BATTERY', 'TEMP', 'REASON'],
    slots.map((s) => [
      dash(s.slot),
      s.botId,
      dash(s.serial),
      dash(s.props?.['ro.product.model']),
      dash(s.state),
      dash(s.diagnosis),
      s.batteryPercent === undefined ? '-' : `${s.batteryPercent}%`,
      s.temperatureC === undefined ? '-' : `${s.temperatureC.toFixed(1)}°C`,
      dash(s.reason),
    ]),
  );
}

/** A slot named by its key (`usb:1-1.3`), its name (`usb-1-1-3`), its bot id or its index. */
export function findSlot<T extends SlotSummary & { name?: string; index?: number }>(
  slots: T[],
  wanted: string,
): T | undefined {
  return resolveSlotRef(slots, wanted, (s) => ({
    ...(s.slot === undefined ? {} : { key: s.slot }),
    ...(s.name === undefined ? {} : { name: s.name }),
    botId: s.botId,
    ...(s.index === undefined ? {} : { index: s.index }),
  }));
}
