/** What adb's state for a phone means to its health. */
export type AdbClass =
  | { kind: 'device' | 'absent' }
  | { kind: 'connecting'; reason: string }
  | { kind: 'fault'; state: 'offline' | 'unauthorized'; reason: string };

/** Modes in which the phone shows in adb but runs no Android to test on. */
const NON_ANDROID_MODES = new Set(['recovery', 'rescue', 'sideload', 'bootloader']);

/**
 * adb's device states are open-ended strings; anything not known to be
 * harmless is a fault, so a new state quarantines instead of taking tasks.
 */
export function classifyAdbState(state: string | undefined): AdbClass {
  const s = state?.trim() ?? '';
  if (s === '') return { kind: 'absent' };
  if (s === 'device') return { kind: 'device' };
  // Passing states of a fresh connection: they turn into `device` or `unauthorized`.
  if (s === 'authorizing' || s === 'connecting') {
    return { kind: 'connecting', reason: `Device connecting to adb (${s})` };
  }
  if (s === 'unauthorized') {
    return {
      kind: 'fault',
      state: 'unauthorized',
      reason: 'Device unauthorized: accept the RSA key on the phone',
    };
  }
  if (s === 'offline') return { kind: 'fault', state: 'offline', reason: 'Device offline' };
  // adb prints `no permissions (<hint>); see [<url>]`.
  if (s.startsWith('no permissions')) {
    return {
      kind: 'fault',
      state: 'offline',
      reason:
        'adb may not open the USB device: check the udev rules and that the pod is privileged',
    };
  }
  if (NON_ANDROID_MODES.has(s)) {
    return { kind: 'fault', state: 'offline', reason: `Device in ${s} mode` };
  }
  return { kind: 'fault', state: 'offline', reason: `Device in unknown adb state "${s}"` };
}
