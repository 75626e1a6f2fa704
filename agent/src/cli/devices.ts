import { formatTable } from './table.js';

/** The slot fields `farm-agent devices` shows, as /status serves them. */
export interface SlotSummary {
  slot?: string;
  botId: string;
  serial?: string;
  state?: string;
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
    ['SLOT', 'BOT', 'SERIAL', 'MODEL', 'STATE', 'BATTERY', 'TEMP', 'REASON'],
    slots.map((s) => [
      dash(s.slot),
      s.botId,
      dash(s.serial),
      dash(s.props?.['ro.product.model']),
      dash(s.state),
      s.batteryPercent === undefined ? '-' : `${s.batteryPercent}%`,
      s.temperatureC === undefined ? '-' : `${s.temperatureC.toFixed(1)}°C`,
      dash(s.reason),
    ]),
  );
}

/** A slot named by its key (`usb:1-1.3`), its name (`usb-1-1-3`) or its bot id. */
export function findSlot<T extends SlotSummary & { name?: string }>(
  slots: T[],
  wanted: string,
): T | undefined {
  return slots.find((s) => s.slot === wanted || s.name === wanted || s.botId === wanted);
}
