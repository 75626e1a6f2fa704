import type { Slot } from '../devices/slot-state.js';

export interface HygieneLimits {
  /** Reboot an idle phone up longer than this (Skia's UI flags more than 25 h). */
  maxUptimeMs: number;
  /** Reboot an idle phone after this many tasks since it booted; 0: never. */
  everyTasks: number;
}

/**
 * Why an idle phone is due a preventive reboot, or undefined. Only a ready phone
 * (idle, awake, healthy): a busy one finishes first, a faulty one is the ladder's.
 */
export function hygieneRebootDue(
  slot: Slot,
  tasksSinceBoot: number,
  limits: HygieneLimits,
): string | undefined {
  if (slot.health.state !== 'ready') return undefined;
  const uptimeMs = (slot.uptimeSeconds ?? 0) * 1000;
  if (uptimeMs > limits.maxUptimeMs) {
    return `up ${hours(uptimeMs)} h, longer than ${hours(limits.maxUptimeMs)} h`;
  }
  if (limits.everyTasks > 0 && tasksSinceBoot >= limits.everyTasks) {
    return `${tasksSinceBoot} tasks since it booted`;
  }
  return undefined;
}

function hours(ms: number): string {
  return String(Math.round((ms / 3_600_000) * 10) / 10);
}
