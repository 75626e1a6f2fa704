import type { Logger } from 'pino';
import type { DeviceIO } from './device-io.js';
import { readProps, readVitals } from './interrogate.js';
import type { InterrogationTimeouts } from './interrogate.js';
import type { RebootAfterTask } from './reboot-after-task.js';
import { applyProps, applyVitals } from './slot-readings.js';
import type { SlotState } from './slot-state.js';
import type { DimensionOptions } from './swarming-dimensions.js';

export interface InterrogationDeps {
  io: DeviceIO;
  timeouts: InterrogationTimeouts;
  dimensions: DimensionOptions;
  log: Logger;
  reboots: RebootAfterTask;
  /** The slot's readings changed: re-derive and tell listeners. */
  changed: (slot: SlotState) => void;
}

/**
 * One read of a present phone: vitals always, properties when stale (the
 * phone attached, came back or rebooted), and again when the uptime shows
 * it rebooted between two reads, as it may be another build now.
 */
export async function interrogateSlot(
  slot: SlotState,
  serial: string,
  deps: InterrogationDeps,
): Promise<void> {
  const { io, timeouts, dimensions, log, reboots, changed } = deps;
  // Results only count while the same phone is still there to be read.
  const current = () => slot.serial === serial && slot.adbState === 'device';
  const props = () => {
    slot.propsStale = false;
    return readProps(io, serial, timeouts);
  };
  const [read, vitals] = await Promise.all([
    slot.propsStale ? props() : undefined,
    readVitals(io, serial, timeouts),
  ]);
  if (!current()) return;
  if (read !== undefined) applyProps(slot, read, dimensions);
  const rebooted = applyVitals(slot, vitals);
  if (rebooted) log.info({ slot: slot.key, serial }, 'phone rebooted');
  reboots.observe(slot);
  changed(slot);
  if (!rebooted) return;
  const fresh = await props();
  if (!current()) return;
  applyProps(slot, fresh, dimensions);
  changed(slot);
}
