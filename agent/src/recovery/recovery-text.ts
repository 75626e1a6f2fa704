import type { RecoveryNote } from '../devices/health.js';
import type { UsbPresence } from '../devices/usb-presence.js';
import { RUNG_LABEL } from './ladder-rules.js';
import type { Rung, Symptom, SymptomKind } from './ladder-rules.js';

/**
 * What the ladder tells people: the notes it puts on a slot (shown in /status,
 * `farm-agent devices` and Swarming) and its Events' texts. Pure.
 */

/** Why a network phone's ladder has no power cycle, as its note says it. */
export const NO_CYCLE_FOR_NETWORK = 'no power cycle: a network phone has no USB port to cycle';

/** The note while a rung runs; its explanation is also the RecoveryStep Event's text. */
export function stepNote(
  symptom: Symptom,
  rung: Rung,
  step: { index: number; of: number },
  tried: readonly string[],
): RecoveryNote {
  const done = tried.length ? `; tried ${tried.join(', ')}` : '';
  return {
    kind: 'recovering',
    diagnosis: symptom.detail,
    explanation: `trying ${RUNG_LABEL[rung]} (step ${step.index + 1} of ${step.of})${done}`,
    suggestedAction: 'Wait: the agent is recovering the phone.',
  };
}

/** What one rung that did not bring the phone back adds to the "tried" list. */
export function triedText(
  rung: Rung,
  outcome: { kind: 'refused' | 'error'; why: string } | { kind: 'no-effect'; waitedMs: number },
): string {
  const label = RUNG_LABEL[rung];
  if (outcome.kind === 'no-effect')
    return `${label} (not back within ${seconds(outcome.waitedMs)})`;
  return `${label} (${outcome.kind === 'refused' ? 'not possible' : 'failed'}: ${outcome.why})`;
}

/** Every rung tried, none worked: the quarantine's note. */
export function failedNote(
  symptom: Symptom,
  tried: readonly string[],
  retryAt: number,
  usb: UsbPresence | undefined,
  network: boolean,
): RecoveryNote {
  const steps = [`tried ${tried.join(', ')}`, ...(network ? [NO_CYCLE_FOR_NETWORK] : [])];
  return {
    kind: 'failed',
    diagnosis: symptom.detail,
    explanation: `${steps.join('; ')}; the agent tries again at ${clockTime(retryAt)}`,
    suggestedAction: failedAction(symptom.kind, usb, network),
  };
}

/** The RecoveryFailed Event's text: the note as Swarming shows it. */
export function failedEventText(note: RecoveryNote): string {
  return `${note.diagnosis}: ${note.explanation}. ${note.suggestedAction}`;
}

/** Out of service after failing too often. */
export function restingNote(until: number): RecoveryNote {
  return {
    kind: 'resting',
    diagnosis: 'failing too often',
    explanation: `out of service until ${clockTime(until)} after repeated failures, then tried again`,
    suggestedAction: 'Wait; if it keeps failing, replace its cable or take the phone out.',
  };
}

/** The RecoveryBudgetSpent Event's text. */
export function budgetSpentText(failures: number, windowMs: number, until: number): string {
  return `${failures} failures within ${minutes(windowMs)}: out of service until ${clockTime(until)}, then tried again`;
}

/** The note during a preventive reboot of an idle phone. */
export function preventiveNote(why: string): RecoveryNote {
  return {
    kind: 'recovering',
    diagnosis: 'preventive reboot',
    explanation: `${RUNG_LABEL.reboot}: ${why}`,
    suggestedAction: 'Wait: it is back in a minute or two.',
  };
}

/** What a person should do once every rung was tried, by what is wrong. */
export function failedAction(
  kind: SymptomKind,
  usb: UsbPresence | undefined,
  network: boolean,
): string {
  switch (kind) {
    case 'offline':
    case 'gone':
      if (network) {
        return 'Check that the phone is on the network at the same address and that adb over TCP is still on (a reboot turns it off unless set to persist); then adb connect it, or plug it in over USB.';
      }
      if (kind === 'offline') {
        return 'Replug the phone; if it stays offline, reboot it by hand (hold the power button) or replace its cable.';
      }
      if (usb === undefined) return 'Check the phone and its cable, then replug it.';
      if (!usb.present) {
        return 'Check the cable, the hub and its power supply, then replug the phone; a phone that does not power on may have a flat or swollen battery.';
      }
      return 'The phone is on USB but not in adb: unlock it and check that USB debugging is on, then replug.';
    case 'hung':
    case 'not-booted':
      return 'Reboot the phone by hand (hold the power button 10 s or more); if it hangs again, reflash it or take it out.';
  }
}

function clockTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

function minutes(ms: number): string {
  return `${Math.round(ms / 60_000)} min`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
