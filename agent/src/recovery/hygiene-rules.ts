import type { Slot } from '../devices/slot-state.js';

export interface HygieneLimits {
  /** Reboot an idle phone up longer than this (Skia's UI flags more than 25 h). */
  maxUptimeMs: number;
  /** Reboot an idle phone after this many tasks since it booted; 0: never. */
  everyTasks: number;
}

/** Tasks a phone ran since it booted, as the ladder's looks saw them. */
export interface TaskCount {
  tasksSinceBoot: number;
  /** What the last look saw. */
  lastTaskRunning: boolean;
  lastUptimeSeconds?: number | undefined;
}

/** Counts a task that ended since the last look; a phone whose uptime went down rebooted. */
export function countTasks(
  count: TaskCount,
  running: boolean,
  uptimeSeconds: number | undefined,
): void {
  if (count.lastTaskRunning && !running) count.tasksSinceBoot += 1;
  count.lastTaskRunning = running;
  const last = count.lastUptimeSeconds;
  if (uptimeSeconds !== undefined && last !== undefined && uptimeSeconds < last) {
    count.tasksSinceBoot = 0;
  }
  count.lastUptimeSeconds = uptimeSeconds;
}

/** After the agent rebooted the phone: nothing run since, its uptime starts over. */
export function rebooted(count: TaskCount): void {
  count.tasksSinceBoot = 0;
  delete count.lastUptimeSeconds;
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
