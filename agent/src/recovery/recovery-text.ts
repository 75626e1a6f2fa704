import type { SymptomKind } from './ladder-rules.js';
import type { UsbPresence } from '../devices/usb-presence.js';

/** What a person should do once every rung was tried, by what is wrong. */
export function failedAction(kind: SymptomKind, usb: UsbPresence | undefined): string {
  switch (kind) {
    case 'offline':
      return 'Replug the phone; if it stays offline, reboot it by hand (hold the power button) or replace its cable.';
    case 'hung':
    case 'not-booted':
      return 'Reboot the phone by hand (hold the power button 10 s or more); if it hangs again, reflash it or take it out.';
    case 'gone':
      if (usb === undefined) return 'Check the phone and its network or cable, then reconnect it.';
      if (!usb.present) {
        return 'Check the cable, the hub and its power supply, then replug the phone; a phone that does not power on may have a flat or swollen battery.';
      }
      return 'The phone is on USB but not in adb: unlock it and check that USB debugging is on, then replug.';
  }
}
