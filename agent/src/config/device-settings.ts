import { SLEEP_ACTIONS } from './sleep-action.js';
import {
  countIn,
  durationIn,
  parseBoolean,
  parseCelsius,
  parseEnum,
  parseNonEmpty,
  parsePort,
  parseSwarmingId,
  parseTcpSerials,
  percentIn,
} from './parse.js';
import { shortHostName, setting } from './setting.js';

/** The device side: which devices, the adb server, how phones are read and judged, and when they sleep. */
export const DEVICE_SETTINGS = {
  devices: setting({
    env: 'FARM_DEVICES',
    doc: '`adb`: one Swarming bot per phone slot. `none`: no phones, one bot named `FARM_BOT_ID`.',
    parse: parseEnum(['adb', 'none'] as const),
    default: 'adb',
  }),
  botIdPattern: setting({
    env: 'FARM_BOT_ID_PATTERN',
    doc: 'Bot id of a phone slot: `{node}` plus `{slot}` (USB port path, e.g. `usb-1-1-3`) or `{index}` (stable slot number).',
    parse: parseNonEmpty,
    default: '{node}-{slot}',
  }),
  botId: setting({
    env: 'FARM_BOT_ID',
    doc: 'Swarming bot id of the host when `FARM_DEVICES=none` (with phones, each slot’s bot is named by `FARM_BOT_ID_PATTERN`).',
    parse: parseSwarmingId,
    default: shortHostName,
    defaultDoc: 'short host name',
  }),
  adbPort: setting({
    env: 'FARM_ADB_PORT',
    doc: 'Port of the adb server (`adb [-a] -P <port> server nodaemon`).',
    parse: parsePort,
    default: '5037',
  }),
  adbListen: setting({
    env: 'FARM_ADB_LISTEN',
    doc:
      'Where the supervised adb server listens: `loopback` (this host only) or `all` (`adb -a`: ' +
      'anyone who reaches the port gets a shell on every phone; for labs that use remote adb).',
    parse: parseEnum(['loopback', 'all'] as const),
    default: 'loopback',
  }),
  adbExternal: setting({
    env: 'FARM_ADB_EXTERNAL',
    doc: 'Use an adb server someone else runs on `FARM_ADB_PORT` instead of supervising one.',
    parse: parseBoolean,
    default: 'false',
  }),
  adbBin: setting({
    env: 'FARM_ADB_BIN',
    doc: 'The adb program.',
    parse: parseNonEmpty,
    default: 'adb',
  }),
  adbTcpDevices: setting({
    env: 'FARM_ADB_TCP_DEVICES',
    doc: 'Network phones (`host:port,…`) to `adb connect`, again after every adb server restart.',
    parse: parseTcpSerials,
    default: '',
    defaultDoc: '(none)',
  }),
  deviceRefresh: setting({
    env: 'FARM_DEVICE_REFRESH',
    doc: 'How often battery, temperatures, uptime and boot state of each phone are read.',
    parse: durationIn('1s', '1h'),
    default: '30s',
  }),
  rebootAfterTask: setting({
    env: 'FARM_REBOOT_AFTER_TASK',
    doc: 'Reboot the phone after every task (Skia did) and wait for boot before the next.',
    parse: parseBoolean,
    default: 'false',
  }),
  batteryMin: setting({
    env: 'FARM_BATTERY_MIN',
    doc: 'Below this battery percentage a phone goes into recovery (maintenance).',
    parse: percentIn(0, 100),
    default: '30',
  }),
  batteryResume: setting({
    env: 'FARM_BATTERY_RESUME',
    doc: 'Recovery ends once the battery is back at this percentage (hysteresis).',
    parse: percentIn(0, 100),
    default: '35',
  }),
  temperatureMax: setting({
    env: 'FARM_TEMPERATURE_MAX',
    doc: 'Above this temperature (°C, battery or thermal HAL) a phone goes into recovery.',
    parse: parseCelsius,
    default: '35',
  }),
  temperatureResume: setting({
    env: 'FARM_TEMPERATURE_RESUME',
    doc: 'Recovery ends once the phone has cooled to this temperature (°C).',
    parse: parseCelsius,
    default: '33',
  }),
  idleCheckInterval: setting({
    env: 'FARM_IDLE_CHECK_INTERVAL',
    doc: 'How often each slot is checked for activity (a task, an outside adb connection, a recent wake).',
    parse: durationIn('1s', '24h'),
    default: '15m',
  }),
  idleChecks: setting({
    env: 'FARM_IDLE_CHECKS',
    doc: 'Consecutive idle checks after which a ready phone is put to sleep (the emulator’s 4 ≈ 1 h).',
    parse: countIn(1, 1000),
    default: '4',
  }),
  sleepAction: setting({
    env: 'FARM_SLEEP_ACTION',
    doc: '`screen` (KEYCODE_SLEEP), `usb-power` (uhubctl turns the port off) or `none` (state only).',
    parse: parseEnum(SLEEP_ACTIONS),
    default: 'screen',
  }),
};
