import { errorMessage } from '@farm-agent/bot-config/lib';
import type { DeviceIO } from './device-io.js';
import { parseDumpsysBattery } from './parse/battery.js';
import type { Battery } from './parse/battery.js';
import { isBootCompleted, parseGetprop } from './parse/getprop.js';
import type { Properties } from './parse/getprop.js';
import { parsed } from './parse/result.js';
import type { Parsed } from './parse/result.js';
import { parseDumpsysThermal } from './parse/thermal.js';
import type { ThermalDump } from './parse/thermal.js';
import { parseProcUptime } from './parse/uptime.js';
import { KERNEL_READS_COMMAND, splitKernelReads } from './parse/kernel-reads.js';
import type { KernelSection } from './parse/kernel-reads.js';
import { parsePowerSupply } from './parse/power-supply.js';
import type { PowerSupply } from './parse/power-supply.js';

/**
 * One reading: what could be read, or why not. A failure reason names the
 * reading (`battery unreadable: ...`) so it can be shown as it is.
 */
export type Reading<T> = Parsed<T>;

/** How a phone is doing: read on every refresh. */
export interface Vitals {
  battery: Reading<Battery>;
  /** The kernel's battery files (capacity, cycles): what the phone lets the shell read. */
  powerSupply: Reading<PowerSupply>;
  thermal: Reading<ThermalDump>;
  uptimeSeconds: Reading<number>;
  bootCompleted: Reading<boolean>;
}

export interface InterrogationTimeouts {
  /** Per command. A hung `dumpsys` must not hold a refresh longer than this. */
  commandMs: number;
  /** `getprop` prints hundreds of lines, slowly on old phones over USB 2. */
  getpropMs: number;
}

export const DEFAULT_INTERROGATION_TIMEOUTS: Readonly<InterrogationTimeouts> = {
  commandMs: 10_000,
  getpropMs: 20_000,
};

/** The USB port path (`usb:1-1.3`), or undefined for a TCP device. Never rejects. */
export function readDevicePath(
  io: DeviceIO,
  serial: string,
  timeouts: InterrogationTimeouts = DEFAULT_INTERROGATION_TIMEOUTS,
): Promise<Reading<string | undefined>> {
  return read('device path', () => io.devicePath(serial, timeouts.commandMs), parsed);
}

/**
 * Every property: read when a phone attaches and whenever it comes back or
 * rebooted (a phone may come back re-flashed). Never rejects.
 */
export function readProps(
  io: DeviceIO,
  serial: string,
  timeouts: InterrogationTimeouts = DEFAULT_INTERROGATION_TIMEOUTS,
): Promise<Reading<Properties>> {
  return read('properties', () => io.shell(serial, 'getprop', timeouts.getpropMs), parseGetprop);
}

/**
 * Reads battery, temperatures, uptime and boot state, each session under its own timeout and
 * all at once, so one hung or failing `dumpsys` costs only its own reading and at most one
 * timeout. The kernel's readings share a session (see kernel-reads.ts). Never rejects.
 */
export async function readVitals(
  io: DeviceIO,
  serial: string,
  timeouts: InterrogationTimeouts = DEFAULT_INTERROGATION_TIMEOUTS,
): Promise<Vitals> {
  const shell = (command: string) => () => io.shell(serial, command, timeouts.commandMs);
  const kernel = io.shell(serial, KERNEL_READS_COMMAND, timeouts.commandMs).then(splitKernelReads);
  // Each reading of the shared session fails on its own: with the session's error, or when
  // the output ended before its section.
  const section = (name: KernelSection) => () =>
    kernel.then((sections) => sections[name] ?? missing(name));
  const [battery, powerSupply, thermal, uptimeSeconds, bootCompleted] = await Promise.all([
    read('battery', shell('dumpsys battery'), parseDumpsysBattery),
    read('battery files', section('files'), parsePowerSupply),
    read('temperatures', shell('dumpsys thermalservice'), parseDumpsysThermal),
    read('uptime', section('uptime'), parseProcUptime),
    read('boot state', section('boot'), (out) => parsed(isBootCompleted(out))),
  ]);
  return { battery, powerSupply, thermal, uptimeSeconds, bootCompleted };
}

function missing(name: KernelSection): never {
  throw new Error(`no ${name} section in the output`);
}

async function read<R, T>(
  what: string,
  run: () => Promise<R>,
  parse: (raw: R) => Parsed<T>,
): Promise<Reading<T>> {
  let result: Parsed<T>;
  try {
    result = parse(await run());
  } catch (error) {
    result = { ok: false, reason: errorMessage(error) };
  }
  return result.ok ? result : { ok: false, reason: `${what} unreadable: ${result.reason}` };
}
