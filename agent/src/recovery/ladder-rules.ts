import type { Slot } from '../devices/slot-state.js';

/**
 * What is wrong with a phone that the agent can try to fix by itself.
 * `offline`: adb lists it offline. `hung`: it answers adb but its commands time
 * out (dumpsys, getprop...). `not-booted`: `sys.boot_completed` is not 1. `gone`:
 * a phone known in the slot left adb without the agent sending it away.
 */
export type SymptomKind = 'offline' | 'hung' | 'not-booted' | 'gone';

export interface Symptom {
  kind: SymptomKind;
  /** Says what was seen: `battery unreadable: ... no answer within 5000 ms`. */
  detail: string;
}

/** The rungs of the ladder, gentlest first. */
export type Rung = 'reconnect' | 'reboot' | 'power-cycle';

/** What each symptom climbs: a reboot needs a phone that answers adb, a cycle fixes most. */
const RUNGS: Readonly<Record<SymptomKind, readonly Rung[]>> = {
  offline: ['reconnect', 'power-cycle'],
  hung: ['reboot', 'power-cycle'],
  'not-booted': ['reboot', 'power-cycle'],
  gone: ['reconnect', 'power-cycle'],
};

/** The rungs for a phone: a network phone has no USB port, so no power cycle. */
export function rungsFor(kind: SymptomKind, network: boolean): readonly Rung[] {
  return network ? RUNGS[kind].filter((rung) => rung !== 'power-cycle') : RUNGS[kind];
}

export const RUNG_LABEL: Readonly<Record<Rung, string>> = {
  reconnect: 'adb reconnect offline',
  reboot: 'adb reboot',
  'power-cycle': 'power cycle of its USB port',
};

const TIMED_OUT = /no answer within/;

/** The symptom the phone shows now, if any (how long it lasted is the caller's to judge). */
export function symptomOf(slot: Slot): Symptom | undefined {
  if (slot.adbState === 'offline') return { kind: 'offline', detail: 'adb lists it offline' };
  if (slot.adbState === undefined) {
    if (slot.deviceTypes.length === 0 && slot.serial === undefined) return undefined;
    return { kind: 'gone', detail: 'gone from adb' };
  }
  if (slot.adbState !== 'device') return undefined;
  const timedOut = Object.values(slot.readingErrors).find((error) => TIMED_OUT.test(error));
  if (timedOut !== undefined) return { kind: 'hung', detail: `commands time out (${timedOut})` };
  if (!slot.bootCompleted) return { kind: 'not-booted', detail: 'sys.boot_completed is not 1' };
  return undefined;
}

/**
 * Why the agent must leave the phone alone now, or undefined. Never under a
 * task; never while a person works on it or the agent sent it away on purpose
 * (asleep, rebooting after a task); never for the adb server's own faults (the
 * agent restarts the server) or an unauthorized phone (only a person can tap
 * "Allow": power-cycling it changes nothing).
 */
export function leaveAlone(slot: Slot, taskRunning: boolean): string | undefined {
  if (taskRunning || slot.taskRunning) return 'a task runs';
  if (slot.overrides.quarantine !== undefined) return 'quarantined by an operator';
  if (slot.overrides.maintenance !== undefined) return 'in maintenance by an operator';
  if (slot.health.state === 'adb-down') return 'the adb server is down';
  if (slot.health.state === 'asleep' || slot.absentOnPurpose !== undefined) {
    return 'away on purpose';
  }
  if (slot.adbState === 'unauthorized') return 'unauthorized: only a person can accept the key';
  return undefined;
}

/** How long a symptom must last before the ladder starts: a phone connecting is offline for a moment. */
export function graceFor(kind: SymptomKind, graceMs: number, bootGraceMs: number): number {
  return kind === 'not-booted' ? bootGraceMs : graceMs;
}
