import { countIn, durationIn, parseBoolean, parseNonEmpty } from './parse.js';
import { setting } from './setting.js';

/** Self-healing: the recovery ladder, its budget, and the hygiene reboots. */
export const RECOVERY_SETTINGS = {
  recovery: setting({
    env: 'FARM_RECOVERY',
    doc: 'Self-healing: take a phone that is offline, hung or gone through `adb reconnect offline`, `adb reboot`, then a power cycle of its port, before quarantining it.',
    parse: parseBoolean,
    default: 'true',
  }),
  recoveryGrace: setting({
    env: 'FARM_RECOVERY_GRACE',
    doc: 'How long a phone must stay offline, hung or gone before recovery starts.',
    parse: durationIn('1s', '1h'),
    default: '1m',
  }),
  recoveryBootGrace: setting({
    env: 'FARM_RECOVERY_BOOT_GRACE',
    doc: 'How long a phone may stay not booted (`sys.boot_completed` not 1) before it counts as hung.',
    parse: durationIn('1s', '1h'),
    default: '5m',
  }),
  recoveryStepTimeout: setting({
    env: 'FARM_RECOVERY_STEP_TIMEOUT',
    doc: 'How long each recovery step waits for the phone to be back and booted before the next.',
    parse: durationIn('1s', '1h'),
    default: '3m',
  }),
  recoveryFailures: setting({
    env: 'FARM_RECOVERY_FAILURES',
    doc: 'Failures within `FARM_RECOVERY_WINDOW` after which a phone sits out `FARM_RECOVERY_COOL_OFF` (Mobile Harness: 3 in 10 min → 20 min).',
    parse: countIn(1, 100),
    default: '3',
  }),
  recoveryWindow: setting({
    env: 'FARM_RECOVERY_WINDOW',
    doc: 'The sliding window failures are counted in; older ones no longer count.',
    parse: durationIn('1s', '24h'),
    default: '10m',
  }),
  recoveryCoolOff: setting({
    env: 'FARM_RECOVERY_COOL_OFF',
    doc: 'How long a phone that failed too often (or that every recovery step failed) waits before it is tried again.',
    parse: durationIn('1s', '24h'),
    default: '20m',
  }),
  powerCycleOff: setting({
    env: 'FARM_POWER_CYCLE_OFF',
    doc: 'How long a recovery power cycle keeps the port off (`uhubctl -a cycle -d`).',
    parse: durationIn('1s', '1m'),
    default: '5s',
  }),
  maxUptime: setting({
    env: 'FARM_MAX_UPTIME',
    doc: 'An idle phone up longer than this is rebooted before its next task (Skia flagged more than 25 h).',
    parse: durationIn('1h', '720h'),
    default: '24h',
  }),
  rebootEveryTasks: setting({
    env: 'FARM_REBOOT_EVERY_TASKS',
    doc: 'Reboot an idle phone after this many tasks since it booted; `0`: never (see also `FARM_REBOOT_AFTER_TASK`).',
    parse: countIn(0, 100_000),
    default: '0',
  }),
  usbSysfs: setting({
    env: 'FARM_USB_SYSFS',
    doc: 'Where the kernel lists USB devices; compared with adb to say why a phone is missing.',
    parse: parseNonEmpty,
    default: '/sys/bus/usb/devices',
  }),
};
