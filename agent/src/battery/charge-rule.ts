import type { ChargeBand } from '../config/battery-care.js';

/**
 * Where charge control stands with one slot:
 *  - `charging`: the port is on and charge control holds nothing; after a task or wake
 *    asked for the phone, it does not cut before `heldUntil`;
 *  - `resting`: it cut the port at the band's top (`cutPercent`, at `since`);
 *  - `checking`: it restored the port to read the level, after resting from `cutPercent`; a
 *    phone back in adb but not read through yet is waited for until `readBy`;
 *  - `unavailable`: this slot's power cannot be switched or the cut did not cut; left charging.
 */
export type ChargePhase =
  | { kind: 'charging'; heldUntil?: number }
  | { kind: 'resting'; since: number; cutPercent: number }
  | { kind: 'checking'; cutPercent: number; readBy: number }
  | { kind: 'unavailable'; reason: string };

/** What the rule sees of a slot at one moment. */
export interface ChargeView {
  /** adb lists the phone as `device`. */
  visible: boolean;
  /** Nothing else wants the phone: no task, no recovery, no operator, no worn battery. */
  idle: boolean;
  /**
   * Not idle only because it is not read through since it came back (booting: its boot state
   * not read as complete yet); nobody else wants it.
   */
  settling?: boolean;
  percent?: number;
  /** dumpsys says some charger powers the phone. */
  powered?: boolean;
}

export type ChargeEvent =
  /** New readings (any change of the slot). */
  | { type: 'reading'; view: ChargeView }
  /**
   * The resting time is up: restore power to read the level. A phone not settled by `readBy`
   * is left charging.
   */
  | { type: 'check-due'; readBy: number }
  /** Long enough after a cut for a phone still in adb to show how it is powered. */
  | { type: 'verify-due'; view: ChargeView }
  /** A task or `/wake` wants the phone: that always beats the cut, until `holdUntil`. */
  | { type: 'demand'; holdUntil: number };

export interface ChargeStep {
  next: ChargePhase;
  /** What to do to the port, if anything. */
  action?: 'cut' | 'restore';
}

/** A level read after a rest this far above the cut's means the phone charged meanwhile. */
const ROSE_BY = 2;

/**
 * One step of charge control for one slot. Pure: the controller feeds it events and does
 * what it answers. While cut, most hubs take the phone off adb, so the level is only known
 * when power is back: resting ends at every check to read it, and a phone read at or below
 * the band's bottom stays on power until the top.
 */
export function chargeStep(
  phase: ChargePhase,
  event: ChargeEvent,
  band: ChargeBand,
  now: number,
): ChargeStep {
  if (phase.kind === 'unavailable') return { next: phase };
  if (event.type === 'demand') {
    const next: ChargePhase = { kind: 'charging', heldUntil: event.holdUntil };
    return phase.kind === 'resting' ? { next, action: 'restore' } : { next };
  }
  switch (phase.kind) {
    case 'charging': {
      if (event.type !== 'reading') return { next: phase };
      const { view } = event;
      // The task the hold was for has the phone now: once it ends, the band applies again.
      if (!view.idle && phase.heldUntil !== undefined) return { next: { kind: 'charging' } };
      const held = phase.heldUntil !== undefined && now < phase.heldUntil;
      if (
        !held &&
        view.visible &&
        view.idle &&
        view.percent !== undefined &&
        view.percent >= band.highPercent
      ) {
        return { next: { kind: 'resting', since: now, cutPercent: view.percent }, action: 'cut' };
      }
      return { next: phase };
    }
    case 'resting': {
      if (event.type === 'check-due') {
        return {
          next: { kind: 'checking', cutPercent: phase.cutPercent, readBy: event.readBy },
          action: 'restore',
        };
      }
      if (event.type === 'verify-due' && event.view.visible && event.view.powered === true) {
        return {
          next: {
            kind: 'unavailable',
            reason: 'the phone stayed on power after its port was cut (the hub keeps VBUS on)',
          },
          action: 'restore',
        };
      }
      return { next: phase };
    }
    case 'checking': {
      if (event.type !== 'reading' || !event.view.visible || event.view.percent === undefined) {
        return { next: phase };
      }
      const { view } = event;
      const percent = view.percent ?? 0;
      if (percent >= phase.cutPercent + ROSE_BY) {
        return {
          next: {
            kind: 'unavailable',
            reason: `the battery rose from ${phase.cutPercent}% to ${percent}% while its port was cut (the hub keeps VBUS on)`,
          },
        };
      }
      if (percent > band.lowPercent && view.idle) {
        return { next: { kind: 'resting', since: now, cutPercent: percent }, action: 'cut' };
      }
      // Read before its slot settled (a phone just back can be read while its boot state is
      // not): not a task's, so wait for the settled reading, but not past readBy.
      if (percent > band.lowPercent && view.settling === true && now < phase.readBy) {
        return { next: phase };
      }
      return { next: { kind: 'charging' } };
    }
  }
}
