/**
 * 6. Charge band: a week of 16 phones under a task mix, simulated minute by minute on the
 * agent's own charge-control rule (agent/src/battery/charge-rule.ts) with a simulated clock.
 * Hours above 80 % with the band, beside the same week held on power all the time (today's
 * hubs); and how often a task found its phone below the task floor and had to wait.
 */
import { chargeStep } from '../../agent/src/battery/charge-rule.js';
import type { ChargePhase } from '../../agent/src/battery/charge-rule.js';
import { QUICK, random, type Row } from '../lib.js';

const PHONES = 16;
const DAYS = QUICK ? 1 : 7;
const MINUTE = 60_000;
const BAND = { lowPercent: 40, highPercent: 80 };
/** FARM_CHARGE_CHECK_INTERVAL's default. */
const CHECK_MS = 30 * MINUTE;
/** After a task or wake, charge control keeps off the port this long (FARM_IDLE_CHECK_INTERVAL). */
const HOLD_MS = 15 * MINUTE;
/** FARM_BATTERY_RESUME: the preflight's floor, which a task waits for. */
const TASK_FLOOR = 35;
/** Percent per hour: charging on a 500 mA port; idle drain off power; net while a task runs on power. */
const CHARGE_PER_HOUR = 40;
const IDLE_DRAIN_PER_HOUR = 4;
const TASK_NET_PER_HOUR = 10;
/** Task lengths (minutes) and their share of the mix. */
const TASK_MIX: readonly [number, number][] = [
  [5, 0.7],
  [20, 0.25],
  [90, 0.05],
];
/** Tasks per phone per hour: a busy lab day, quiet nights. */
const DAY_RATE = 1.2;
const NIGHT_RATE = 0.1;

interface Phone {
  level: number;
  phase: ChargePhase;
  /** Minutes of task left; 0 when idle. */
  task: number;
  /** A task waiting for charge, with the minute it arrived. */
  waitingSince?: number;
  /** When the current rest's check falls due. */
  checkAt?: number;
}

interface Totals {
  minutesAbove80: number;
  minutesInBand: number;
  tasks: number;
  waited: number;
  waitMinutes: number;
  cuts: number;
}

function taskLength(r: number): number {
  let acc = 0;
  for (const [minutes, share] of TASK_MIX) {
    acc += share;
    if (r < acc) return minutes;
  }
  return TASK_MIX[0]?.[0] ?? 5;
}

function simulate(band: boolean): Totals {
  const rand = random(7); // the same for both runs, so they see the same tasks
  const phones: Phone[] = Array.from({ length: PHONES }, (_, i) => ({
    level: 50 + ((i * 37) % 50),
    phase: { kind: 'charging' },
    task: 0,
  }));
  const totals: Totals = {
    minutesAbove80: 0,
    minutesInBand: 0,
    tasks: 0,
    waited: 0,
    waitMinutes: 0,
    cuts: 0,
  };
  for (let minute = 0; minute < DAYS * 24 * 60; minute++) {
    const now = minute * MINUTE;
    const hour = (minute / 60) % 24;
    const rate = hour >= 8 && hour < 20 ? DAY_RATE : NIGHT_RATE;
    for (const phone of phones) {
      const arrives = phone.task === 0 && phone.waitingSince === undefined && rand() < rate / 60;
      const length = taskLength(rand());
      if (arrives) {
        totals.tasks += 1;
        if (band) phone.phase = demand(phone, now);
        if (phone.level < TASK_FLOOR) {
          totals.waited += 1;
          phone.waitingSince = minute;
        } else phone.task = length;
      }
      if (phone.waitingSince !== undefined && phone.level >= TASK_FLOOR) {
        totals.waitMinutes += minute - phone.waitingSince;
        delete phone.waitingSince;
        phone.task = length;
      }
      const powered = phone.phase.kind !== 'resting';
      const perHour =
        phone.task > 0 ? TASK_NET_PER_HOUR : powered ? CHARGE_PER_HOUR : -IDLE_DRAIN_PER_HOUR;
      phone.level = Math.min(100, Math.max(0, phone.level + perHour / 60));
      if (phone.task > 0) phone.task -= 1;
      if (band) control(phone, now, totals);
      if (phone.level > BAND.highPercent) totals.minutesAbove80 += 1;
      if (phone.level >= BAND.lowPercent && phone.level <= BAND.highPercent) {
        totals.minutesInBand += 1;
      }
    }
  }
  return totals;
}

/** A task arrived: the rule's demand (restores a resting phone, holds off the cut). */
function demand(phone: Phone, now: number): ChargePhase {
  const step = chargeStep(phone.phase, { type: 'demand', holdUntil: now + HOLD_MS }, BAND, now);
  if (step.action === 'restore') delete phone.checkAt;
  return step.next;
}

/** One minute of charge control: the check when due, then the reading (refreshes are more often). */
function control(phone: Phone, now: number, totals: Totals): void {
  if (phone.checkAt !== undefined && now >= phone.checkAt) {
    // The simulated phone is read the minute it is back, never unsettled: no read deadline.
    const checkDue = { type: 'check-due', readBy: now } as const;
    apply(phone, chargeStep(phone.phase, checkDue, BAND, now), now, totals);
  }
  const visible = phone.phase.kind !== 'resting';
  const view = {
    visible,
    idle: phone.task === 0 && phone.waitingSince === undefined,
    percent: Math.floor(phone.level),
    powered: visible,
  };
  apply(phone, chargeStep(phone.phase, { type: 'reading', view }, BAND, now), now, totals);
}

function apply(
  phone: Phone,
  step: ReturnType<typeof chargeStep>,
  now: number,
  totals: Totals,
): void {
  phone.phase = step.next;
  if (step.action === 'cut') {
    totals.cuts += 1;
    phone.checkAt = now + CHECK_MS;
  }
  if (step.action === 'restore') delete phone.checkAt;
}

export async function battery(): Promise<Row[]> {
  const held = simulate(false);
  const banded = simulate(true);
  const perPhone = (minutes: number) => minutes / 60 / PHONES;
  const section = 'battery';
  return [
    {
      section,
      figure: `hours above 80 % per phone, ${DAYS}-day week, with the band`,
      value: perPhone(banded.minutesAbove80),
      unit: 'h',
      floor: perPhone(held.minutesAbove80),
      floorLabel: 'always on power',
    },
    {
      section,
      figure: 'share of time inside 40–80 %, with the band',
      value: (100 * banded.minutesInBand) / (DAYS * 24 * 60 * PHONES),
      unit: '%',
      floor: (100 * held.minutesInBand) / (DAYS * 24 * 60 * PHONES),
      floorLabel: 'always on power',
    },
    {
      section,
      figure: `tasks that waited for charge (of ${banded.tasks})`,
      value: banded.waited,
      unit: 'tasks',
      floor: held.waited,
      floorLabel: 'always on power',
      note: `mean wait ${banded.waited === 0 ? 0 : (banded.waitMinutes / banded.waited).toFixed(1)} min`,
    },
    {
      section,
      figure: 'port cuts per phone per day (each 30-min check cuts again)',
      value: banded.cuts / PHONES / DAYS,
      unit: 'cuts',
    },
  ];
}
