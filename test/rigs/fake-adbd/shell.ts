/**
 * The fake phone's shell: a table from command line to output, printing what a real
 * Android 10 phone prints. Pure functions over PhoneState so parsers can be tested on
 * exactly these strings without a socket.
 */

export type BatteryPlugged = 'none' | 'ac' | 'usb' | 'wireless';

export interface BatteryState {
  level: number;
  scale: number;
  /** Tenths of a degree Celsius, as the health HAL reports it (280 = 28.0 °C). */
  temperature: number;
  /** BatteryManager.BATTERY_STATUS_*: 1 unknown, 2 charging, 3 discharging, 4 not charging, 5 full. */
  status: number;
  /** BatteryManager.BATTERY_HEALTH_*: 1 unknown, 2 good, 3 overheat, 4 dead, 5 over voltage, ... */
  health: number;
  plugged: BatteryPlugged;
  /** Millivolts. */
  voltage: number;
  /** µAh left (`Charge counter`, sysfs `charge_counter`). */
  chargeCounter: number;
}

/**
 * The kernel's battery files (`/sys/class/power_supply/battery/<name>`) the shell user may
 * read; a name left out is a file missing or denied by SELinux, which `grep -s` skips.
 */
export type PowerSupplyFiles = Partial<
  Record<'charge_full' | 'charge_full_design' | 'cycle_count' | 'health', string>
>;

export interface ThermalReading {
  name: string;
  /** android.os.Temperature.TYPE_*: 0 CPU, 1 GPU, 2 battery, 3 skin, ... */
  type: number;
  /** Degrees Celsius (a Java float; printed with Float.toString rules). */
  value: number;
  /** android.os.Temperature.THROTTLING_*: 0 none ... 6 shutdown. */
  status: number;
}

export interface PhoneState {
  /** Every system property; `getprop` prints them all, sorted like toolbox getprop does. */
  props: Record<string, string>;
  battery: BatteryState;
  /** charge_counter and temp come from `battery`, as the kernel feeds both. */
  powerSupply: PowerSupplyFiles;
  thermal: ThermalReading[];
  uptimeSeconds: number;
  bootCompleted: boolean;
}

/** What the shell does with one command line. */
export type ShellResult = { kind: 'output'; text: string } | { kind: 'hang' };

export function defaultProps(): Record<string, string> {
  return {
    'ro.build.id': 'QP1A.190711.020',
    'ro.build.version.incremental': 'G980FXXU1ATB3',
    'ro.build.version.release': '10',
    'ro.build.version.sdk': '29',
    'ro.build.type': 'user',
    'ro.build.product': 'x1s',
    'ro.product.brand': 'samsung',
    'ro.product.system.brand': 'samsung',
    'ro.product.board': 'exynos990',
    'ro.product.device': 'x1s',
    'ro.product.model': 'SM-G980F',
    'ro.product.name': 'x1sxx',
    'ro.serialno': 'R58N12ABCDE',
  };
}

export function defaultState(): PhoneState {
  return {
    props: defaultProps(),
    battery: {
      level: 85,
      scale: 100,
      temperature: 280,
      status: 2,
      health: 2,
      plugged: 'usb',
      voltage: 4209,
      chargeCounter: 2902000,
    },
    powerSupply: {
      charge_full: '3800000',
      charge_full_design: '4000000',
      cycle_count: '212',
      health: 'Good',
    },
    thermal: [
      { name: 'CPU0', type: 0, value: 33.1, status: 0 },
      { name: 'GPU', type: 1, value: 31.5, status: 0 },
      { name: 'battery', type: 2, value: 28, status: 0 },
      { name: 'skin', type: 3, value: 30.2, status: 0 },
    ],
    uptimeSeconds: 12345.67,
    bootCompleted: true,
  };
}

/** The props getprop reports, with sys.boot_completed following the bootCompleted flag. */
function effectiveProps(state: PhoneState): Record<string, string> {
  const props = { ...state.props };
  if (state.bootCompleted) props['sys.boot_completed'] = '1';
  else delete props['sys.boot_completed'];
  return props;
}

/** `getprop`: one `[key]: [value]` line per property, sorted by key (toolbox getprop sorts). */
export function formatGetprop(props: Record<string, string>): string {
  return Object.keys(props)
    .sort()
    .map((key) => `[${key}]: [${props[key]}]\n`)
    .join('');
}

/**
 * `dumpsys battery` as BatteryService.dumpInternal prints it on Android 10:
 * two-space indent, booleans as Java prints them, `scale` always the constant.
 */
export function formatDumpsysBattery(battery: BatteryState): string {
  const lines = [
    'Current Battery Service state:',
    `  AC powered: ${battery.plugged === 'ac'}`,
    `  USB powered: ${battery.plugged === 'usb'}`,
    `  Wireless powered: ${battery.plugged === 'wireless'}`,
    `  Max charging current: ${battery.plugged === 'none' ? 0 : 500000}`,
    `  Max charging voltage: ${battery.plugged === 'none' ? 0 : 5000000}`,
    `  Charge counter: ${battery.chargeCounter}`,
    `  status: ${battery.status}`,
    `  health: ${battery.health}`,
    '  present: true',
    `  level: ${battery.level}`,
    `  scale: ${battery.scale}`,
    `  voltage: ${battery.voltage}`,
    `  temperature: ${battery.temperature}`,
    '  technology: Li-ion',
  ];
  return lines.map((line) => `${line}\n`).join('');
}

const POWER_SUPPLY_DIR = '/sys/class/power_supply/battery/';

/**
 * `grep -s . <files>`: `path:value` for each readable file (grep prefixes the name when
 * given several), nothing for missing ones (-s), exit 2 text for anything else grep would
 * refuse here.
 */
export function formatGrep(state: PhoneState, argv: readonly string[]): string {
  if (argv[1] !== '-s' || argv[2] !== '.' || argv.length < 4) {
    return 'usage: grep [-abcEFhHilLnoqrsvwxZz] [-ABC NUM] [-e REGEX]... [-f FILE] [FILE]...\n';
  }
  const files: Record<string, string | undefined> = {
    ...state.powerSupply,
    charge_counter: String(state.battery.chargeCounter),
    temp: String(state.battery.temperature),
  };
  const paths = argv.slice(3);
  return paths
    .map((path) => {
      const name = path.startsWith(POWER_SUPPLY_DIR) ? path.slice(POWER_SUPPLY_DIR.length) : '';
      const value = files[name];
      if (value === undefined) return '';
      return paths.length > 1 ? `${path}:${value}\n` : `${value}\n`;
    })
    .join('');
}

/**
 * Java's Float.toString for the values tests use: integers keep a `.0`, others print
 * their shortest form (a value like 54.600002 is printed as given, as a real HAL float).
 */
export function javaFloat(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

function temperatureLine(t: ThermalReading): string {
  return `\tTemperature{mValue=${javaFloat(t.value)}, mType=${t.type}, mName=${t.name}, mStatus=${t.status}}\n`;
}

/**
 * `dumpsys thermalservice` as ThermalManagerService's binder dump prints it on Android 10
 * with a Thermal HAL 2.0: listener lists, the cached map, then the HAL section that
 * the agent parses (`Current temperatures from HAL:` followed by tab-indented
 * `Temperature{...}` lines), then cooling devices.
 */
export function formatDumpsysThermal(thermal: readonly ThermalReading[]): string {
  const listeners = '\tcallbacks: 1\n\tkilled: false\n\tbroadcasts count: -1\n';
  const worst = thermal.reduce((max, t) => Math.max(max, t.status), 0);
  const temps = thermal.map(temperatureLine).join('');
  return [
    'IsStatusOverride: false\n',
    'ThermalEventListeners:\n',
    listeners,
    'ThermalStatusListeners:\n',
    listeners,
    `Thermal Status: ${worst}\n`,
    'Cached temperatures:\n',
    temps,
    'HAL Ready: true\n',
    'HAL connection:\n',
    '\tThermalHAL 2.0 connected: yes\n',
    'Current temperatures from HAL:\n',
    temps,
    'Current cooling devices from HAL:\n',
    '\tCoolingDevice{mValue=0, mType=2, mName=thermal-cpufreq-0}\n',
  ].join('');
}

/** `/proc/uptime`: seconds up and summed idle seconds, two decimals each. */
export function formatUptime(uptimeSeconds: number): string {
  return `${uptimeSeconds.toFixed(2)} ${(uptimeSeconds * 3.5).toFixed(2)}\n`;
}

/**
 * Runs one command line against the state: commands separated by `;` run in turn, their
 * output one after the other, as mksh runs them. Unknown commands answer like mksh does on
 * a phone, so a caller that forgets to check output sees a realistic failure.
 */
export function runShellCommand(state: PhoneState, command: string): ShellResult {
  const results = command.split(';').map((part) => runSimpleCommand(state, part));
  let text = '';
  for (const result of results) {
    if (result.kind === 'hang') return result;
    text += result.text;
  }
  return { kind: 'output', text };
}

function runSimpleCommand(state: PhoneState, command: string): ShellResult {
  const argv = command.trim().split(/\s+/);
  const output = (text: string): ShellResult => ({ kind: 'output', text });
  const props = effectiveProps(state);
  switch (argv[0]) {
    case 'getprop':
      if (argv.length === 1) return output(formatGetprop(props));
      // A missing property prints an empty line, not an error.
      return output(`${props[argv[1] ?? ''] ?? ''}\n`);
    case 'dumpsys':
      if (argv[1] === 'battery' && argv.length === 2) {
        return output(formatDumpsysBattery(state.battery));
      }
      if (argv[1] === 'thermalservice' && argv.length === 2) {
        return output(formatDumpsysThermal(state.thermal));
      }
      return output(`Can't find service: ${argv[1] ?? ''}\n`);
    case 'grep':
      return output(formatGrep(state, argv));
    case 'cat':
      if (argv[1] === '/proc/uptime') return output(formatUptime(state.uptimeSeconds));
      return output(`cat: ${argv[1] ?? ''}: No such file or directory\n`);
    case 'input':
      // `input keyevent KEYCODE_*` prints nothing on success.
      return output('');
    case 'echo':
      return output(`${argv.slice(1).join(' ')}\n`);
    case 'true':
    case '':
      return output('');
    default:
      return output(`/system/bin/sh: ${argv[0] ?? ''}: inaccessible or not found\n`);
  }
}

/**
 * What Skia's rules make of the default phone's properties (a Galaxy S20 on
 * Android 10), written out by hand, outside a container: the tests of
 * everything that reports a phone compare against this.
 */
export const DEFAULT_PHONE_DIMENSIONS = {
  android_devices: ['1'],
  device_os: ['Q', 'QP1A.190711.020', 'QP1A.190711.020_G980FXXU1ATB3'],
  device_os_flavor: ['samsung'],
  device_os_type: ['user'],
  device_type: ['x1s', 'exynos990'],
  inside_docker: [],
  os: ['Android'],
};
