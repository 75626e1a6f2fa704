import { uhubctlTarget } from '../devices/slot.js';
import type { PortPower } from './port-power.js';

/**
 * Reads each USB slot's port once as the slot appears (the saved slots when the
 * slot manager starts, then each new one), so /status knows its power after a restart.
 */
export function readPortsAsSlotsAppear(
  power: PortPower,
  slots: { onSlotReported(listener: (slot: { key: string }) => void): () => void },
): () => void {
  // A read for /status: nothing waits on it, so it comes after the turn that made the slot.
  return slots.onSlotReported((slot) => {
    const target = uhubctlTarget(slot.key);
    if (target !== null) void power.readOnce(target);
  });
}
