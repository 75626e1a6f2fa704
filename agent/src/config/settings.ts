import { SLEEP_ACTIONS } from './sleep-action.js';
import {
  bytesIn,
  countIn,
  durationIn,
  parseBoolean,
  parseBotUser,
  parseCelsius,
  parseEnum,
  parseHost,
  parseHttpUrl,
  parseNonEmpty,
  parsePort,
  parseSwarmingId,
  parseTcpSerials,
  percentIn,
  type Parser,
} from './parse.js';

/** What defaults may depend on; injected so tests do not read the real host. */
export interface DefaultsContext {
  hostname: string;
  home: string;
}

interface SettingSpec<T> {
  env: `FARM_${string}`;
  doc: string;
  parse: Parser<T>;
  /** A raw value run through `parse` like any input, so a default can never be invalid. */
  default?: string | ((ctx: DefaultsContext) => string);
  /** How the README shows a computed default. */
  defaultDoc?: string;
}

type Defaulted<T> = SettingSpec<T> & { default: NonNullable<SettingSpec<T>['default']> };

// Overloads keep "has a default" in the type, so `Config` knows which settings are always set.
function setting<T>(spec: Defaulted<T>): Defaulted<T>;
function setting<T>(spec: SettingSpec<T>): SettingSpec<T>;
function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

/**
 * Every setting the agent reads. The README's configuration table is
 * generated from this list (`farm-agent config --markdown`), so the two cannot
 * drift apart.
 */
export const SETTINGS = {
  configFile: setting({
    env: 'FARM_CONFIG_FILE',
    doc: 'Optional JSON file of `{"FARM_…": "value"}`; environment variables override it.',
    parse: parseNonEmpty,
  }),
  nodeName: setting({
    env: 'FARM_NODE_NAME',
    doc: 'Kubernetes node this agent runs on (Downward API `spec.nodeName`).',
    parse: parseSwarmingId,
    default: (ctx) => ctx.hostname.split('.')[0] ?? ctx.hostname,
    defaultDoc: 'short host name',
  }),
  swarmingServer: setting({
    env: 'FARM_SWARMING_SERVER',
    doc: 'Swarming server URL. Unset: no bot runs; devices, hooks and cluster reporting still work.',
    parse: parseHttpUrl,
  }),
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
    default: (ctx) => ctx.hostname.split('.')[0] ?? ctx.hostname,
    defaultDoc: 'short host name',
  }),
  pool: setting({
    env: 'FARM_POOL',
    doc: 'Swarming `pool` dimension. Set: replaces the pool the bot reports (the real bot always says `default`). Unset: the bot’s own pool stays, as the server’s `bots.cfg` normally sets it.',
    parse: parseSwarmingId,
  }),
  tokenConfig: setting({
    env: 'FARM_TOKEN_CONFIG',
    doc: 'OAuth token config `{"url","headers"}` used to fetch the bot’s access token.',
    parse: parseNonEmpty,
    default: '/etc/swarming_config/oauth2_access_token_config.json',
  }),
  stateDir: setting({
    env: 'FARM_STATE_DIR',
    doc: 'Where the bot code zip, the bots’ working directories and the agent’s state live; created if missing. Start-up stops if it cannot be written.',
    parse: parseNonEmpty,
    default: (ctx) => `${ctx.home}/.local/state/farm-agent`,
    defaultDoc: '`~/.local/state/farm-agent` (image: `/var/lib/farm-agent`)',
  }),
  python: setting({
    env: 'FARM_PYTHON',
    doc: 'Python 3 interpreter that runs `swarming_bot.zip`.',
    parse: parseNonEmpty,
    default: 'python3',
  }),
  botUser: setting({
    env: 'FARM_BOT_USER',
    doc: 'User the Swarming bots and their tasks run as, so they cannot read what is root’s: the pod’s service-account token, the operator credential. Needs the agent to run as root. Unset: the agent’s own user.',
    parse: parseBotUser,
    defaultDoc: 'unset (image: `swarming`)',
  }),
  hookPort: setting({
    env: 'FARM_HOOK_PORT',
    doc: 'Port of the bot hook listener, bound to 127.0.0.1 only.',
    parse: parsePort,
    default: '11000',
  }),
  httpHost: setting({
    env: 'FARM_HTTP_HOST',
    doc: 'Address of the cluster-facing listener (`/healthz`, `/status`, `/metrics`, the wake page). `0.0.0.0` shows them to the lab network (see “Who can read what”); `127.0.0.1` keeps them on the node.',
    parse: parseHost,
    default: '0.0.0.0',
  }),
  httpPort: setting({
    env: 'FARM_HTTP_PORT',
    doc: 'Port of the cluster-facing listener.',
    parse: parsePort,
    default: '8080',
  }),
  statusTokenFile: setting({
    env: 'FARM_STATUS_TOKEN_FILE',
    doc: 'File holding a bearer token that `GET /status` then requires (`Authorization: Bearer …`); the CLI reads it too. Unset: `/status` answers anyone who reaches `FARM_HTTP_HOST`.',
    parse: parseNonEmpty,
  }),
  botCrashLimit: setting({
    env: 'FARM_BOT_CRASH_LIMIT',
    doc: 'Bot crashes inside `FARM_BOT_CRASH_WINDOW` that quarantine the bot until it stays up.',
    parse: countIn(1, 100),
    default: '5',
  }),
  botCrashWindow: setting({
    env: 'FARM_BOT_CRASH_WINDOW',
    doc: 'Window in which bot crashes are counted.',
    parse: durationIn('10s', '24h'),
    default: '10m',
  }),
  botStableAfter: setting({
    env: 'FARM_BOT_STABLE_AFTER',
    doc: 'Uptime after which a bot counts as stable again (restart backoff and quarantine clear).',
    parse: durationIn('5s', '1h'),
    default: '2m',
  }),
  botRestartMax: setting({
    env: 'FARM_BOT_RESTART_MAX',
    doc: 'Longest wait between bot restarts (backoff starts at 1s).',
    parse: durationIn('1s', '1h'),
    default: '5m',
  }),
  botStopGrace: setting({
    env: 'FARM_BOT_STOP_GRACE',
    doc: 'Time the bot gets after SIGTERM before its whole process tree (tasks included) is killed.',
    parse: durationIn('1s', '10m'),
    default: '30s',
  }),
  botTerminatedRestart: setting({
    env: 'FARM_BOT_TERMINATED_RESTART',
    doc: "Wait before starting a bot again that ended itself with exit 0 (the server's `terminate`); never counted as a crash.",
    parse: durationIn('1s', '24h'),
    default: '5m',
  }),
  drainGrace: setting({
    env: 'FARM_DRAIN_GRACE',
    doc: 'On SIGTERM, how long running tasks may finish (no new ones start) before the bots are stopped. `terminationGracePeriodSeconds` must cover it plus `FARM_BOT_STOP_GRACE`.',
    parse: durationIn('1s', '2h'),
    default: '10m',
  }),
  readyTimeout: setting({
    env: 'FARM_READY_TIMEOUT',
    doc: 'Longest `on_before_task` waits for the phone to be ready (the bots get it as `FARM_READY_TIMEOUT_S`).',
    parse: durationIn('1s', '1h'),
    default: '10m',
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
  namespace: setting({
    env: 'FARM_NAMESPACE',
    doc: 'Namespace of the heartbeat Lease (Downward API `metadata.namespace`).',
    parse: parseSwarmingId,
    default: 'farm',
  }),
  podName: setting({
    env: 'FARM_POD_NAME',
    doc: 'Holder of the heartbeat Lease (Downward API `metadata.name`).',
    parse: parseSwarmingId,
    default: (ctx) => ctx.hostname.split('.')[0] ?? ctx.hostname,
    defaultDoc: 'short host name',
  }),
  kubeconfig: setting({
    env: 'FARM_KUBECONFIG',
    doc: 'Kubeconfig for runs outside the cluster (`KUBECONFIG` is deliberately ignored). In a pod the service account is used; with neither, the agent runs standalone. Set but missing or unusable: start-up stops.',
    parse: parseNonEmpty,
  }),
  leaseRenewInterval: setting({
    env: 'FARM_LEASE_RENEW_INTERVAL',
    doc: 'How often the node’s heartbeat Lease is renewed (it lasts four times as long).',
    parse: durationIn('1s', '5m'),
    default: '10s',
  }),
  overridesPoll: setting({
    env: 'FARM_OVERRIDES_POLL',
    doc: 'How often the Node is read for operator annotations (maintenance, quarantine).',
    parse: durationIn('1s', '1h'),
    default: '30s',
  }),
  hostPollInterval: setting({
    env: 'FARM_HOST_POLL_INTERVAL',
    doc: 'How often the Pi’s own temperature, memory, disk and load are read.',
    parse: durationIn('1s', '1h'),
    default: '30s',
  }),
  hostTemperatureMax: setting({
    env: 'FARM_HOST_TEMPERATURE_MAX',
    doc: 'Above this SoC temperature (°C) every slot goes into maintenance (a Pi throttles at 80).',
    parse: parseCelsius,
    default: '80',
  }),
  hostTemperatureResume: setting({
    env: 'FARM_HOST_TEMPERATURE_RESUME',
    doc: 'The slots leave host maintenance once the SoC is below this (°C).',
    parse: parseCelsius,
    default: '75',
  }),
  hostDiskMinPercent: setting({
    env: 'FARM_HOST_DISK_MIN_PERCENT',
    doc: 'Maintenance (and the bots’ own `free_partition` quarantine) when less than this share of the state filesystem is free…',
    parse: percentIn(0, 50),
    default: '5',
  }),
  hostDiskMinFree: setting({
    env: 'FARM_HOST_DISK_MIN_FREE',
    doc: '…or less than this much, whichever is larger.',
    parse: bytesIn('0', '1Ti'),
    default: '500Mi',
  }),
  logLevel: setting({
    env: 'FARM_LOG_LEVEL',
    doc: 'Log level.',
    parse: parseEnum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const),
    default: 'info',
  }),
};

export type SettingKey = keyof typeof SETTINGS;
type Parsed<K extends SettingKey> = ReturnType<(typeof SETTINGS)[K]['parse']>;
type HasDefault<K extends SettingKey> = (typeof SETTINGS)[K] extends { default: unknown }
  ? true
  : false;

/** The validated configuration: settings with a default are always present. */
export type Config = {
  [K in SettingKey]: HasDefault<K> extends true ? Parsed<K> : Parsed<K> | undefined;
};

export type { SettingSpec };
