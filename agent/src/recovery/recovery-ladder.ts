import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { systemClock } from '@farm-agent/bot-config/lib';
import type { Clock } from '@farm-agent/bot-config/lib';
import type { RecoveryNote } from '../devices/health.js';
import type { Slot } from '../devices/slot-state.js';
import type { UhubctlTarget } from '../devices/slot.js';
import type { ReportedEvent } from '../cluster/event-dedupe.js';
import type { PortPower } from '../power/port-power.js';
import { uhubctlTarget } from '../devices/slot.js';
import { graceFor, leaveAlone, rungsFor, symptomOf } from './ladder-rules.js';
import type { Symptom } from './ladder-rules.js';
import { countTasks, hygieneRebootDue, rebooted } from './hygiene-rules.js';
import type { HygieneLimits, TaskCount } from './hygiene-rules.js';
import { RecoveryBudget } from './recovery-budget.js';
import type { BudgetLimits } from './recovery-budget.js';
import type { RecoveryActions } from './recovery-actions.js';
import { RecoveryReport } from './recovery-report.js';
import { RecoverySteps } from './recovery-steps.js';
import { failedNote, preventiveNote, restingNote, stepNote, triedText } from './recovery-text.js';
import type { UsbPresence } from '../devices/usb-presence.js';

export interface LadderSettings {
  /** How long offline, hung or gone must last before the ladder starts. */
  graceMs: number;
  /** How long a phone may stay not booted before it counts as hung. */
  bootGraceMs: number;
  /** How long each rung waits for the phone to be back and booted. */
  rungTimeoutMs: number;
  /** How long a power cycle keeps the port off. */
  cycleOffMs: number;
  /** How often the slots are looked at. */
  checkIntervalMs: number;
  /** Bound on one adb request of a rung. */
  commandTimeoutMs: number;
  budget: BudgetLimits;
  /** Preventive reboots of idle phones; undefined: none. */
  hygiene?: HygieneLimits | undefined;
}

/** The slot manager as the ladder uses it. */
export interface LadderSlots {
  slots(): Slot[];
  slot(key: string): Slot | undefined;
  onSlotChanged(listener: (slot: Slot) => void): () => void;
  setRecovery(key: string, note: RecoveryNote | undefined, usb?: UsbPresence): void;
}

export interface LadderOptions {
  slots: LadderSlots;
  actions: RecoveryActions;
  /** The port power owner; without it no power cycle is tried. */
  power: PortPower | undefined;
  /** The hub port that powers a slot's phone; default from its key (`usb:1-1.3`), null for TCP. */
  powerTarget?: ((slot: Slot) => UhubctlTarget | null) | undefined;
  /** Whether the slot's bot runs a task (the hook ledger), beyond the slot's own flag. */
  taskRunning: (slot: Slot) => boolean;
  /** The kernel's view of a slot's USB port (`/sys/bus/usb/devices`); undefined for TCP. */
  readUsb: (slotKey: string) => Promise<UsbPresence | undefined>;
  settings: LadderSettings;
  logger: Logger;
  registry: Registry;
  /** An Event regarding the Node (the cluster reporter's queue). */
  event: (event: ReportedEvent) => void;
  clock?: Clock;
}

interface SlotRecovery {
  budget: RecoveryBudget;
  /** When the symptom now seen was first seen, and which one it was. */
  symptomSince?: number;
  symptomKind?: Symptom['kind'];
  /** The note the ladder last put on the slot. */
  note?: RecoveryNote;
  usb?: UsbPresence;
  /** After a failed climb, the ladder waits until then before climbing again. */
  retryAt?: number;
  climbing: boolean;
  /** For hygiene: tasks the phone ran since it booted. */
  tasks: TaskCount;
}

/**
 * The self-healing ladder, per slot: a phone offline, hung or gone for longer
 * than the grace is taken through gentler to harsher rungs (see ladder-rules.ts),
 * each bounded in time, stopping at the first after which it is back and booted.
 * Out of rungs, the slot is quarantined with what was tried and what a person
 * should do (recovery-text.ts), and tried again after the cool-off. Every climb
 * counts against the slot's budget: a phone that keeps failing sits out a
 * cool-off. Never under a task, never while a person or the agent itself has the
 * phone away on purpose. Each step is logged, counted and an Event (recovery-report.ts).
 */
export class RecoveryLadder {
  private readonly state = new Map<string, SlotRecovery>();
  private readonly clock: Clock;
  private readonly report: RecoveryReport;
  private readonly steps: RecoverySteps;
  private readonly powerTarget: (slot: Slot) => UhubctlTarget | null;
  private readonly climbs = new Set<Promise<void>>();
  private timer: unknown;
  private stopped = false;

  constructor(private readonly options: LadderOptions) {
    this.clock = options.clock ?? systemClock;
    this.report = new RecoveryReport(options.registry, options.event, options.logger);
    this.powerTarget = options.powerTarget ?? ((slot) => uhubctlTarget(slot.key));
    this.steps = new RecoverySteps({
      ...options,
      powerTarget: this.powerTarget,
      clock: this.clock,
    });
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    await Promise.all([...this.climbs]);
  }

  /** One look at every slot; runs by itself every check interval after start(). */
  async check(): Promise<void> {
    const now = this.clock.now();
    for (const slot of this.options.slots.slots()) await this.look(slot, now);
  }

  private async look(slot: Slot, now: number): Promise<void> {
    const state = this.stateOf(slot.key);
    if (state.climbing) return;
    const usb = slot.adbState === 'device' ? undefined : await this.options.readUsb(slot.key);
    const outUntil = state.budget.outOfServiceUntil(now);
    this.report.outOfService(slot, outUntil !== undefined);
    if (outUntil !== undefined) return this.note(slot.key, state, restingNote(outUntil), usb);
    const symptom = symptomOf(slot);
    const blocked = leaveAlone(slot, this.options.taskRunning(slot));
    const hygiene = this.hygieneDue(slot, state);
    if (symptom === undefined && blocked === undefined && hygiene !== undefined) {
      this.climbWith(state, () => this.rebootForHygiene(slot, state, hygiene));
      return;
    }
    if (symptom === undefined || blocked !== undefined) {
      delete state.symptomSince;
      // Healthy again (replugged, rebooted by hand): the ladder's word no longer holds.
      if (symptom === undefined) delete state.retryAt;
      const keep = blocked !== undefined && state.note?.kind === 'failed';
      return this.note(slot.key, state, keep ? state.note : undefined, usb);
    }
    if (state.symptomKind !== symptom.kind || state.symptomSince === undefined) {
      state.symptomKind = symptom.kind;
      state.symptomSince = now;
    }
    const { graceMs, bootGraceMs } = this.options.settings;
    const lasted = now - state.symptomSince >= graceFor(symptom.kind, graceMs, bootGraceMs);
    const waiting = state.retryAt !== undefined && now < state.retryAt;
    if (!lasted || waiting) return this.note(slot.key, state, state.note, usb);
    state.usb = usb;
    this.climbWith(state, () => this.climbFrom(slot, state, symptom));
  }

  /** Counts the tasks a phone ran since it booted; the reason for a preventive reboot, if due. */
  private hygieneDue(slot: Slot, state: SlotRecovery): string | undefined {
    const running = this.options.taskRunning(slot) || slot.taskRunning;
    countTasks(state.tasks, running, slot.uptimeSeconds);
    const limits = this.options.settings.hygiene;
    return limits === undefined
      ? undefined
      : hygieneRebootDue(slot, state.tasks.tasksSinceBoot, limits);
  }

  /** A preventive reboot of an idle phone; one that does not come back is the ladder's next. */
  private async rebootForHygiene(slot: Slot, state: SlotRecovery, why: string): Promise<void> {
    this.note(slot.key, state, preventiveNote(why), undefined);
    this.report.preventiveReboot(slot, why);
    const watch = this.steps.watchBack(slot.key, true);
    const outcome = await this.steps.take('reboot', slot);
    const back =
      outcome.kind === 'done' && (await watch.within(this.options.settings.rungTimeoutMs));
    if (outcome.kind !== 'done') watch.cancel();
    rebooted(state.tasks);
    this.note(slot.key, state, undefined, undefined);
    if (!back) this.report.notBackAfterPreventiveReboot(slot, why);
  }

  /** Runs one climb of the slot's in the background; the slot is looked at again after it. */
  private climbWith(state: SlotRecovery, work: () => Promise<void>): void {
    state.climbing = true;
    const climb = work()
      .catch((err: unknown) => this.options.logger.error({ err }, 'recovery failed'))
      .finally(() => {
        state.climbing = false;
        this.climbs.delete(climb);
      });
    this.climbs.add(climb);
  }

  private async climbFrom(slot: Slot, state: SlotRecovery, symptom: Symptom): Promise<void> {
    const key = slot.key;
    const outUntil = state.budget.fail(this.clock.now());
    if (outUntil !== undefined) {
      this.note(key, state, restingNote(outUntil), state.usb);
      this.report.budgetSpent(slot, symptom, outUntil, this.options.settings.budget);
      return;
    }
    const tried: string[] = [];
    const network = this.powerTarget(slot) === null;
    const rungs = rungsFor(symptom.kind, network);
    for (const [index, rung] of rungs.entries()) {
      const current = this.options.slots.slot(key);
      const blocked = current && leaveAlone(current, this.options.taskRunning(current));
      if (current === undefined || blocked !== undefined) {
        this.report.abandoned(slot, symptom, blocked);
        this.note(key, state, undefined, undefined);
        return;
      }
      const note = stepNote(symptom, rung, { index, of: rungs.length }, tried);
      this.note(key, state, note, state.usb);
      this.report.step(slot, symptom, rung, note);
      // Watched from before the step: until a rebooted phone has left adb, what the slot
      // shows is the old boot's (it may even answer again for a moment).
      const watch = this.steps.watchBack(key, rung === 'reboot');
      const outcome = await this.steps.take(rung, current);
      if (outcome.kind === 'refused' || outcome.kind === 'error') {
        watch.cancel();
        this.report.rungFailed(rung, outcome.kind);
        tried.push(triedText(rung, outcome));
        continue;
      }
      const waitedMs = this.options.settings.rungTimeoutMs;
      if (await watch.within(waitedMs)) {
        this.note(key, state, undefined, undefined);
        this.report.recovered(slot, symptom, rung);
        return;
      }
      this.report.rungFailed(rung, 'no-effect');
      tried.push(triedText(rung, { kind: 'no-effect', waitedMs }));
    }
    const retryAt = this.clock.now() + this.options.settings.budget.coolOffMs;
    state.retryAt = retryAt;
    const usb = await this.options.readUsb(key);
    const note = failedNote(symptom, tried, retryAt, usb, network);
    this.note(key, state, note, usb);
    this.report.failed(slot, symptom, tried, note);
  }

  /** Puts the note (and the kernel's view) on the slot when either changed. */
  private note(
    key: string,
    state: SlotRecovery,
    note: RecoveryNote | undefined,
    usb: UsbPresence | undefined,
  ): void {
    if (JSON.stringify([note, usb]) === JSON.stringify([state.note, state.usb])) return;
    if (note === undefined) delete state.note;
    else state.note = note;
    if (usb === undefined) delete state.usb;
    else state.usb = usb;
    this.options.slots.setRecovery(key, note, usb);
  }

  private stateOf(key: string): SlotRecovery {
    let state = this.state.get(key);
    if (state === undefined) {
      state = {
        budget: new RecoveryBudget(this.options.settings.budget),
        climbing: false,
        tasks: { tasksSinceBoot: 0, lastTaskRunning: false },
      };
      this.state.set(key, state);
    }
    return state;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.check()
        .catch((err: unknown) => this.options.logger.error({ err }, 'recovery check failed'))
        .finally(() => this.schedule());
    }, this.options.settings.checkIntervalMs);
  }
}
