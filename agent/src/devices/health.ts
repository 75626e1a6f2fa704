import type { BotDeviceView } from '@farm-agent/bot-config';
import type { RecoveryThresholds } from '../config/recovery-thresholds.js';
import { guardProblem, preflightProblem } from './battery-fitness.js';
import type { UsbPresence } from './usb-presence.js';
import { explain, missingCause, swarmingText } from './health-explanation.js';
import { goneMissingReason } from './swarming-dimensions.js';
import { classifyAdbState } from './adb-state.js';

export type HealthState =
  | 'ready'
  | 'busy'
  | 'booting'
  | 'offline'
  | 'unauthorized'
  | 'missing'
  | 'recovering'
  | 'worn'
  | 'maintenance'
  | 'quarantined'
  | 'asleep'
  | 'resting'
  | 'empty'
  | 'adb-down';

/** What Swarming is told: the device view without its dimensions. */
export type SwarmingHealth = Omit<BotDeviceView, 'dimensions'>;

export interface SlotHealth {
  state: HealthState;
  /**
   * Why the slot is in this state. Swarming shows it as the first sentence of its
   * quarantined or maintenance text, followed by the suggested action (an
   * operator's reason alone).
   */
  reason?: string;
  /**
   * Why the phone needs recovery, whichever state wins. Carried into the next
   * evaluation so leaving recovery uses the stricter thresholds.
   */
  recovery?: string;
  swarming: SwarmingHealth;
  /** For every state but ready: what a person reads (see health-explanation.ts). */
  diagnosis?: string;
  explanation?: string;
  suggestedAction?: string;
  /** When the slot entered this state (ms since the epoch); set by the slot, not here. */
  since?: number;
  /** When the slot was last ready, if it was since the agent started. */
  lastReadyAt?: number;
}

/**
 * The recovery ladder's word on a slot: `recovering` while a rung runs, `failed`
 * once every rung was tried and a person must act, `resting` while the phone
 * sits out a cool-off after failing too often.
 */
export interface RecoveryNote {
  kind: 'recovering' | 'failed' | 'resting';
  diagnosis: string;
  explanation: string;
  suggestedAction: string;
}

export interface SlotObservation {
  /**
   * Why the adb server cannot be asked now; then adbState and the readings are only
   * what was last seen, and nothing can be run on the phone.
   */
  adbDown?: string;
  /** The device's state in `adb devices`; undefined when adb does not list it. */
  adbState?: string;
  /** `sys.boot_completed` was `1`. */
  bootCompleted: boolean;
  /** Undefined when it could not be read (or the device has no battery). */
  batteryPercent?: number;
  /** Hottest Celsius reading of battery and thermal HAL; undefined when none was read. */
  maxTemperatureC?: number;
  /** `device_type` of the last phone seen in this slot; empty when it never had one. */
  lastDeviceTypes: readonly string[];
  /**
   * The agent made the phone leave adb: it cut the USB port's power (it is
   * asleep, not missing), cut it to keep the battery in its band (it is resting), or
   * asked it to reboot (it is booting). The caller
   * clears this when the phone should have come back.
   */
  absentOnPurpose?: 'powered-off' | 'rebooting' | 'resting';
  /**
   * The lifecycle put the phone to sleep, whatever its sleep action: a phone
   * with its screen off is still listed by adb, and is asleep all the same.
   */
  asleep: boolean;
  /** Why the phone's battery is worn out (health, heat while charging, lost capacity). */
  batteryWorn?: string;
  /** The reboot after a task missed its deadline; set until the phone is back and booted. */
  rebootFailure?: string;
  /** Why the phone's properties could not be read in the last interrogation. */
  propsUnreadable?: string;
  taskRunning: boolean;
  /** Operator overrides; an empty reason still counts. */
  operator: { maintenance?: string; quarantine?: string };
  /** The serial of the phone last seen in the slot. */
  serial?: string;
  /** The kernel's view of the slot's USB port, when it was read (a phone not in adb). */
  usb?: UsbPresence;
  recovery?: RecoveryNote;
}

export const DEFAULT_RECOVERY_THRESHOLDS: Readonly<RecoveryThresholds> = {
  minBatteryPercent: 30,
  maxTemperatureC: 35,
  resumeBatteryPercent: 35,
  resumeTemperatureC: 33,
};

/**
 * The health of one slot. Pure: the same observation and previous health
 * always give the same answer.
 *
 * Precedence, first match wins:
 *  1. operator quarantine: a person said "never use this", nothing overrides it;
 *  2. operator maintenance: a person is working on the phone, so its faults
 *     (unplugged, unauthorized while re-flashing) are expected and must not
 *     raise quarantines. Skia did the same: no "gone missing" in maintenance.
 *  3. the adb server is down: nothing about the phone can be known or done;
 *  4. the phone is not usable over adb: asleep or rebooting on purpose, else
 *     missing / unauthorized / offline (hardware facts that need a person),
 *     or empty (a slot that never had a phone);
 *  5. worn: the battery is failing (health, heat while charging, lost
 *     capacity); a person must replace it before it swells;
 *  5b. recovering (battery or heat): the phone is there but must rest;
 *  6. booting: it will be ready by itself. Missing or booting after a reboot
 *     after a task that missed its deadline is quarantined: it did not come
 *     back by itself, so a person must look;
 *  7. recovering (properties unreadable): without them the bot would
 *     advertise no device and still take tasks;
 *  8. asleep: the lifecycle put a phone that adb still lists to sleep (screen off);
 *  9. busy: running a task;
 * 10. ready.
 *
 * What Swarming sees follows from who has to act:
 *  - quarantined (bot refuses tasks, shows red) when a person must act:
 *    operator quarantine, missing, unauthorized, offline or a mode adb cannot use;
 *  - maintenance (bot sleeps quietly, clears itself) when the state is
 *    expected and passes on its own, or is hardware wear that must not take
 *    tasks yet need not alarm Swarming: operator maintenance, a worn battery, adb down (the agent
 *    restarts its server), recovering, booting, an empty slot (Skia reported
 *    recovery as maintenance too);
 *  - neither, just not ready, when the next task should still come: asleep
 *    (on_before_task wakes the phone), resting (on_before_task restores its power) and busy.
 */
export function evaluateSlotHealth(
  obs: SlotObservation,
  previous: SlotHealth | undefined,
  thresholds: RecoveryThresholds = DEFAULT_RECOVERY_THRESHOLDS,
): SlotHealth {
  const recovery = recoveryReason(obs, previous?.recovery, thresholds);
  const decided = decide(obs, recovery);
  const verdict = recovery === undefined ? decided : { ...decided, recovery };
  if (verdict.state === 'ready') return verdict;
  const byOperator =
    obs.operator.quarantine !== undefined || obs.operator.maintenance !== undefined;
  const note = byOperator || obs.adbDown !== undefined ? undefined : obs.recovery;
  const explained =
    note ??
    explain({
      state: verdict.state,
      reason: verdict.reason ?? '',
      byOperator,
      quarantined: verdict.swarming.quarantined !== undefined,
      ...(obs.lastDeviceTypes[0] === undefined ? {} : { deviceType: obs.lastDeviceTypes[0] }),
      ...(obs.serial === undefined ? {} : { serial: obs.serial }),
      ...(obs.adbState === undefined ? {} : { adbState: obs.adbState }),
      ...(obs.usb === undefined ? {} : { usb: obs.usb }),
    });
  return {
    ...verdict,
    swarming: byOperator
      ? verdict.swarming
      : withAction(verdict.swarming, explained.suggestedAction),
    diagnosis: explained.diagnosis,
    explanation: explained.explanation,
    suggestedAction: explained.suggestedAction,
  };
}

function decide(obs: SlotObservation, recovery: string | undefined): SlotHealth {
  const { quarantine, maintenance } = obs.operator;
  if (quarantine !== undefined) {
    return quarantined('quarantined', quarantine || 'Quarantined by an operator');
  }
  if (maintenance !== undefined) {
    return inMaintenance('maintenance', maintenance || 'In maintenance by an operator');
  }
  if (obs.adbDown !== undefined) return inMaintenance('adb-down', obs.adbDown);
  if (obs.recovery !== undefined) return recoveryVerdict(obs.recovery);
  const adb = classifyAdbState(obs.adbState);
  if (adb.kind === 'absent') return notBackAfterReboot(absent(obs), obs.rebootFailure);
  if (adb.kind === 'fault') return quarantined(adb.state, adb.reason);
  if (adb.kind === 'connecting') {
    return notBackAfterReboot(inMaintenance('booting', adb.reason), obs.rebootFailure);
  }
  if (obs.batteryWorn !== undefined) {
    return inMaintenance('worn', `Battery worn: ${obs.batteryWorn}; replace the battery`);
  }
  if (recovery !== undefined) return inMaintenance('recovering', `Recovering: ${recovery}`);
  if (!obs.bootCompleted) {
    return notBackAfterReboot(inMaintenance('booting', 'Device booting'), obs.rebootFailure);
  }
  if (obs.propsUnreadable !== undefined) {
    return inMaintenance('recovering', `Recovering: device ${obs.propsUnreadable}`);
  }
  if (obs.asleep) return notReady('asleep', 'Asleep while idle; the next task wakes it');
  if (obs.taskRunning) return notReady('busy', 'Running a task');
  return { state: 'ready', swarming: { ready: true } };
}

/**
 * The ladder at work or out of rungs. Working and resting pass on their own
 * (maintenance); out of rungs needs a person (quarantined).
 */
function recoveryVerdict(note: RecoveryNote): SlotHealth {
  const text = `${note.diagnosis}: ${note.explanation}`;
  if (note.kind === 'failed') return quarantined('quarantined', text);
  return inMaintenance('recovering', `Recovering: ${text}`);
}

/** Swarming's text for a state the agent decided: the reason, then what to do. */
function withAction(swarming: SwarmingHealth, action: string): SwarmingHealth {
  const { quarantined: q, maintenance: m } = swarming;
  if (q !== undefined) return { ...swarming, quarantined: swarmingText(q, action) };
  if (m !== undefined) return { ...swarming, maintenance: swarmingText(m, action) };
  return swarming;
}

/** A phone missing or booting past its reboot deadline is quarantined, its state kept. */
function notBackAfterReboot(health: SlotHealth, failure: string | undefined): SlotHealth {
  if (failure === undefined) return health;
  if (health.state === 'missing') return quarantine(health, `${health.reason ?? ''}: ${failure}`);
  if (health.state === 'booting') return quarantine(health, `Device not booted: ${failure}`);
  return health;
}

function quarantine(health: SlotHealth, reason: string): SlotHealth {
  return { ...health, reason, swarming: { quarantined: reason, ready: false } };
}

function absent(obs: SlotObservation): SlotHealth {
  if (obs.absentOnPurpose === 'powered-off') {
    return notReady('asleep', 'Powered off while idle; the next task wakes it');
  }
  if (obs.absentOnPurpose === 'rebooting') return inMaintenance('booting', 'Device rebooting');
  if (obs.absentOnPurpose === 'resting') {
    return notReady(
      'resting',
      'Resting off power to keep its battery in the band; the next task restores it',
    );
  }
  const missing = goneMissingReason(obs.lastDeviceTypes);
  if (missing !== undefined) {
    const cause = obs.usb === undefined ? undefined : missingCause(obs.usb);
    return quarantined('missing', cause === undefined ? missing : `${missing}: ${cause}`);
  }
  return inMaintenance('empty', 'No device in this slot');
}

/**
 * Why the phone needs recovery, with hysteresis: a phone at work yields when the guard trips,
 * and a recovering one returns only once its preflight passes (battery/fitness.ts). With no
 * reading at all the previous answer stands: not knowing is no proof the phone has cooled or
 * charged.
 */
function recoveryReason(
  obs: SlotObservation,
  previous: string | undefined,
  t: RecoveryThresholds,
): string | undefined {
  const reading = { batteryPercent: obs.batteryPercent, temperatureC: obs.maxTemperatureC };
  if (reading.batteryPercent === undefined && reading.temperatureC === undefined) return previous;
  return previous !== undefined ? preflightProblem(reading, t) : guardProblem(reading, t);
}

function quarantined(state: HealthState, reason: string): SlotHealth {
  return { state, reason, swarming: { quarantined: reason, ready: false } };
}

function inMaintenance(state: HealthState, reason: string): SlotHealth {
  return { state, reason, swarming: { maintenance: reason, ready: false } };
}

function notReady(state: HealthState, reason: string): SlotHealth {
  return { state, reason, swarming: { ready: false } };
}
