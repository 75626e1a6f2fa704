import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ReportedEvent } from '../cluster/event-dedupe.js';
import type { RecoveryNote } from '../devices/health.js';
import type { Slot } from '../devices/slot-state.js';
import { RUNG_LABEL } from './ladder-rules.js';
import type { Rung, Symptom } from './ladder-rules.js';
import { RecoveryMetrics } from './recovery-metrics.js';
import type { RungOutcome } from './recovery-metrics.js';
import { budgetSpentText, failedEventText } from './recovery-text.js';

/**
 * What the ladder reports of its work, in one place: each step, recovery,
 * failure and spent budget is logged, counted in metrics and an Event regarding
 * the Node (the event queue names the slot in front of the note).
 */
export class RecoveryReport {
  private readonly metrics: RecoveryMetrics;

  constructor(
    registry: Registry,
    private readonly event: (event: ReportedEvent) => void,
    private readonly logger: Logger,
  ) {
    this.metrics = new RecoveryMetrics(registry);
  }

  /** Whether the slot sits out a cool-off (the out-of-service gauge). */
  outOfService(slot: Slot, out: boolean): void {
    this.metrics.resting(slot.name, out);
  }

  step(slot: Slot, symptom: Symptom, rung: Rung, note: RecoveryNote): void {
    this.logger.info({ slot: slot.key, symptom: symptom.kind, rung }, 'recovery step');
    this.send('Normal', 'RecoveryStep', slot, `${symptom.detail}: ${note.explanation}`);
  }

  /** A rung that did not bring the phone back. */
  rungFailed(rung: Rung, outcome: Exclude<RungOutcome, 'worked'>): void {
    this.metrics.rung(rung, outcome);
  }

  recovered(slot: Slot, symptom: Symptom, rung: Rung): void {
    this.metrics.rung(rung, 'worked');
    this.metrics.episode(symptom.kind, 'recovered');
    this.logger.info({ slot: slot.key, symptom: symptom.kind, rung }, 'phone recovered');
    this.send(
      'Normal',
      'PhoneRecovered',
      slot,
      `${symptom.detail}: back after ${RUNG_LABEL[rung]}`,
    );
  }

  /** A task or a person came first: the climb stops where it is. */
  abandoned(slot: Slot, symptom: Symptom, why: string | undefined): void {
    this.logger.info({ slot: slot.key, symptom: symptom.kind, why }, 'recovery abandoned');
    this.metrics.episode(symptom.kind, 'abandoned');
  }

  failed(slot: Slot, symptom: Symptom, tried: readonly string[], note: RecoveryNote): void {
    this.metrics.episode(symptom.kind, 'failed');
    this.logger.warn(
      { slot: slot.key, symptom: symptom.kind, tried },
      'recovery failed: a person must look',
    );
    this.send('Warning', 'RecoveryFailed', slot, failedEventText(note));
  }

  budgetSpent(
    slot: Slot,
    symptom: Symptom,
    until: number,
    budget: { failures: number; windowMs: number },
  ): void {
    this.logger.warn(
      { slot: slot.key, symptom: symptom.kind, outUntil: new Date(until).toISOString() },
      'recovery budget spent',
    );
    this.metrics.episode(symptom.kind, 'out-of-service');
    this.metrics.resting(slot.name, true);
    const text = budgetSpentText(budget.failures, budget.windowMs, until);
    this.send('Warning', 'RecoveryBudgetSpent', slot, text);
  }

  preventiveReboot(slot: Slot, why: string): void {
    this.send('Normal', 'PreventiveReboot', slot, why);
  }

  notBackAfterPreventiveReboot(slot: Slot, why: string): void {
    this.logger.warn({ slot: slot.key, why }, 'not back after a preventive reboot');
  }

  private send(type: ReportedEvent['type'], reason: string, slot: Slot, note: string): void {
    this.event({ type, reason, note, slot: slot.name });
  }
}
