import type { UsbPresence } from './usb-presence.js';
import type { HealthState } from './health.js';

/** What a person reads about a slot that is not ready (Mobile Harness shows the same three). */
export interface Explanation {
  /** Short: `not on USB (cable, hub or power)`, `offline`, `asleep`. */
  diagnosis: string;
  /** One sentence of what the agent knows. */
  explanation: string;
  /** What to do about it, if anything. */
  suggestedAction: string;
}

/** What the explanation is made from: the verdict and the facts behind it. */
export interface ExplanationFacts {
  state: HealthState;
  reason: string;
  /** The phone last seen in the slot: its name and serial. */
  deviceType?: string;
  serial?: string;
  adbState?: string;
  /** The kernel's view of the slot's USB port; undefined for a TCP phone or when unread. */
  usb?: UsbPresence;
  /** The operator set this state (quarantine, maintenance). */
  byOperator: boolean;
  /** Swarming is told the bot is quarantined: a person must act. */
  quarantined: boolean;
}

const AGENT_TRIES =
  'the agent tries adb reconnect offline, then a power cycle of its port where the hub switches ports one by one';

/** The kernel's side of a missing phone: the diagnosis and the tail of its Swarming reason. */
export function missingCause(usb: UsbPresence): string {
  return usb.present ? 'on USB but not in adb' : 'not on USB (cable, hub or power)';
}

/**
 * What Swarming shows for a quarantined or maintenance bot the agent put there:
 * the reason unchanged as the first sentence (dashboards match on it, as on
 * Skia's texts), then what to do. An operator's own reason is shown as written
 * and never goes through here.
 */
export function swarmingText(reason: string, suggestedAction: string): string {
  return `${reason.replace(/\.$/, '')}. ${suggestedAction}`;
}

/** The three texts for a state other than ready. */
export function explain(facts: ExplanationFacts): Explanation {
  const { state, reason } = facts;
  const phone = phoneName(facts);
  switch (state) {
    case 'quarantined':
    case 'maintenance':
      if (facts.byOperator) {
        return {
          diagnosis: `${state === 'quarantined' ? 'quarantined' : 'in maintenance'} by an operator`,
          explanation: reason,
          suggestedAction: `When done, lift it: farm-agent ${state === 'quarantined' ? 'quarantine' : 'maintenance'} <slot> --clear`,
        };
      }
      return { diagnosis: state, explanation: reason, suggestedAction: 'See the explanation.' };
    case 'adb-down':
      return {
        diagnosis: 'adb server down',
        explanation: `${reason}: nothing about the phone can be known meanwhile`,
        suggestedAction:
          'Wait: the agent restarts its adb server. If it lasts, read the agent log.',
      };
    case 'missing':
      return missing(facts, phone);
    case 'unauthorized':
      return {
        diagnosis: 'unauthorized: accept the key on the phone, or the adb key was lost',
        explanation: `adb lists ${phone} but the phone has not accepted the agent's adb key`,
        suggestedAction:
          'Unlock the phone and tap "Allow" (tick "Always allow from this computer"). If no dialog shows, the agent\'s adb key changed: keep FARM_STATE_DIR on a persistent volume, then replug.',
      };
    case 'offline':
      return {
        diagnosis: 'offline',
        explanation: `adb sees ${phone} but its adbd does not answer (${reason})`,
        suggestedAction: `Wait: ${AGENT_TRIES}. If it stays offline, replug the cable or reboot the phone by hand.`,
      };
    case 'booting':
      if (facts.quarantined) {
        return {
          diagnosis: 'not booted after its reboot',
          explanation: reason,
          suggestedAction:
            'Reboot the phone by hand (hold the power button 10 s or more); if it hangs again, reflash it or take it out.',
        };
      }
      return {
        diagnosis: 'booting',
        explanation: reason,
        suggestedAction:
          'Wait: it becomes ready once booted; a boot that never ends gets rebooted.',
      };
    case 'recovering':
      return {
        diagnosis: 'recovering',
        explanation: reason,
        suggestedAction:
          'Wait: it resumes by itself (charged, cooled, or recovered by the agent). If it lasts, check the charger, the airflow and the agent log.',
      };
    case 'asleep':
      return {
        diagnosis: 'asleep',
        explanation: reason,
        suggestedAction: 'Nothing: the next task wakes it, or /wake.',
      };
    case 'resting':
      return {
        diagnosis: 'resting off power',
        explanation: reason,
        suggestedAction:
          'Nothing: charge control keeps its battery in the band; a task or /wake restores power at once.',
      };
    case 'worn':
      return {
        diagnosis: 'worn battery',
        explanation: reason,
        suggestedAction:
          'Take the phone out and check its battery for swelling; replace the battery or the phone. The slot serves again once another phone is in it.',
      };
    case 'busy':
      return {
        diagnosis: 'running a task',
        explanation: reason,
        suggestedAction: 'Nothing: it is ready again when the task ends.',
      };
    case 'empty':
      return {
        diagnosis: 'no phone',
        explanation: 'No phone was ever seen in this slot',
        suggestedAction: 'Plug a phone in with USB debugging on, or ignore the slot.',
      };
    case 'ready':
      return { diagnosis: 'ready', explanation: 'Ready for tasks', suggestedAction: 'Nothing.' };
  }
}

/**
 * Why a known phone is gone, from the kernel's view of its port against adb's:
 * not enumerated at all is hardware (cable, hub, power); enumerated but not in
 * adb is software (USB debugging off, adb lost it).
 */
function missing(facts: ExplanationFacts, phone: string): Explanation {
  const usb = facts.usb;
  if (usb === undefined) {
    return {
      diagnosis: 'gone from adb',
      explanation: `${phone} is gone from adb`,
      suggestedAction: 'Check the phone, its cable or its network, then replug it.',
    };
  }
  if (!usb.present) {
    return {
      diagnosis: missingCause(usb),
      explanation: `${phone} is gone: the kernel sees no device on its USB port`,
      suggestedAction:
        'Check the cable, the hub and its power supply; replug the phone. A phone that does not power on may have a flat or swollen battery.',
    };
  }
  const seen = [usb.idVendor, usb.idProduct].filter(Boolean).join(':');
  const other =
    usb.serial !== undefined && facts.serial !== undefined && usb.serial !== facts.serial
      ? ` (a different device: serial ${usb.serial})`
      : '';
  return {
    diagnosis: missingCause(usb),
    explanation: `USB lists ${seen || 'a device'}${usb.serial === undefined ? '' : ` serial ${usb.serial}`} on the port${other}, but adb does not list ${phone}`,
    suggestedAction: `USB debugging may be off (after a reset or an update), or adb lost the phone: ${AGENT_TRIES}; if that fails, enable USB debugging on the phone.`,
  };
}

function phoneName(facts: ExplanationFacts): string {
  const name = facts.deviceType === undefined ? 'the phone' : `phone "${facts.deviceType}"`;
  return facts.serial === undefined ? name : `${name} (serial ${facts.serial})`;
}
