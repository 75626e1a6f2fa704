import { readdir, readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errorMessage, withTimeout } from '@farm-agent/bot-config/lib';
import {
  cpuTemperatureOf,
  parseMemInfo,
  type MemoryReading,
  type ThermalZone,
} from './host-readings.js';

/** What the agent knows about the Pi it runs on. Every field a probe could not read is undefined. */
export interface HostFacts {
  /** `Raspberry Pi 4 Model B Rev 1.4` from the device tree, else the DMI model. */
  model?: string;
  /** SoC (CPU thermal zone) temperature in °C; x86 VMs and qemu usually have none. */
  temperatureC?: number;
  memoryTotalBytes?: number;
  /** The kernel's MemAvailable: what can be allocated without swapping. */
  memoryAvailableBytes?: number;
  disk?: DiskFacts;
  /** 1, 5 and 15 minute load averages. */
  load?: [number, number, number];
  uptimeSeconds?: number;
  /** When the reading finished (ms since the epoch). */
  readAt: number;
  /** Probes that failed or timed out, by field: `temperatureC: timed out after 5000 ms`. */
  errors: Record<string, string>;
}

export interface DiskFacts {
  /** The directory asked about (FARM_STATE_DIR) or its nearest existing ancestor. */
  path: string;
  /** Bytes an unprivileged writer can still use (`df`'s Avail, the kubelet's `nodefs.available`). */
  freeBytes: number;
  totalBytes: number;
}

export interface ReadHostFactsOptions {
  /** Directory whose filesystem is measured: FARM_STATE_DIR. */
  stateDir: string;
  /** Bound on each probe; probes run in parallel, so also roughly the bound on the whole read. */
  timeoutMs?: number;
  /** A model read earlier: it cannot change while the agent runs, and DMI probing spawns processes. */
  knownModel?: string;
  /** Where the Pi's model lives; a test can point it at a fixture. */
  deviceTreeModelPath?: string;
  /** The thermal zones (/sys/class/thermal); a test can point it at a fixture. */
  thermalDir?: string;
  /** /proc/meminfo; a test can point it elsewhere. */
  memInfoPath?: string;
}

/** The x86 model, where there is no device tree. */
const DMI_DIR = '/sys/class/dmi/id';

export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;

// Every probe reads a kernel file: a poll every 30 s on a Pi must not spawn processes (the
// systeminformation library used before ran `sh`, `cat` and `sensors` for the temperature).

async function readModel(deviceTreeModelPath: string): Promise<string | undefined> {
  try {
    // The device tree string is NUL-terminated.
    const model = (await readFile(deviceTreeModelPath, 'utf8')).replace(/\0+$/, '').trim();
    if (model !== '') return model;
  } catch {
    // No device tree: not a Pi (x86 lab box, CI); DMI knows the model there.
  }
  const parts = await Promise.all(
    ['sys_vendor', 'product_name'].map((file) =>
      readFile(path.join(DMI_DIR, file), 'utf8').then(
        (text) => text.trim(),
        () => '',
      ),
    ),
  );
  const model = parts.filter((part) => part !== '').join(' ');
  return model === '' ? undefined : model;
}

async function readTemperature(thermalDir: string): Promise<number | undefined> {
  let names: string[];
  try {
    names = (await readdir(thermalDir)).filter((name) => name.startsWith('thermal_zone'));
  } catch (err) {
    // No thermal class at all (most VMs and containers): no temperature, not a failure.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  names.sort((a, b) => zoneNumber(a) - zoneNumber(b));
  const zones = await Promise.all(
    names.map(async (name): Promise<ThermalZone | undefined> => {
      try {
        const [type, temp] = await Promise.all(
          ['type', 'temp'].map((file) => readFile(path.join(thermalDir, name, file), 'utf8')),
        );
        const milliCelsius = Number(temp?.trim());
        return Number.isFinite(milliCelsius)
          ? { type: type?.trim() ?? '', milliCelsius }
          : undefined;
      } catch {
        // A zone whose sensor cannot be read right now (EAGAIN, ENODATA): skip it.
        return undefined;
      }
    }),
  );
  return cpuTemperatureOf(zones.filter((z) => z !== undefined));
}

const zoneNumber = (name: string): number => Number(name.slice('thermal_zone'.length));

async function readMemory(memInfoPath: string): Promise<MemoryReading> {
  const reading = parseMemInfo(await readFile(memInfoPath, 'latin1'));
  if (reading === undefined) throw new Error(`${memInfoPath} has no MemTotal`);
  return reading;
}

async function readDisk(stateDir: string): Promise<DiskFacts> {
  // statfs answers for the filesystem that holds the path itself, which is what matters even
  // when FARM_STATE_DIR is a hostPath bind mount; `df` output would need mount-point matching.
  // The directory may not exist yet at the first poll: measure the filesystem it will live on.
  let dir = path.resolve(stateDir);
  for (;;) {
    try {
      const stats = await statfs(dir);
      return {
        path: dir,
        freeBytes: stats.bavail * stats.bsize,
        totalBytes: stats.blocks * stats.bsize,
      };
    } catch (err) {
      const parent = path.dirname(dir);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) throw err;
      dir = parent;
    }
  }
}

/**
 * Reads the host's facts. Never throws: each probe is bounded by `timeoutMs`
 * and a failed one leaves its fields undefined with the reason in `errors`.
 */
export async function readHostFacts(options: ReadHostFactsOptions): Promise<HostFacts> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const errors: Record<string, string> = {};
  const probe = async <T>(field: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      // The probe keeps running after a timeout, harmlessly; only the wait ends.
      return await withTimeout(fn, timeoutMs, {
        error: () => new Error(`timed out after ${timeoutMs} ms`),
      });
    } catch (err) {
      errors[field] = errorMessage(err);
      return undefined;
    }
  };
  const [model, temperatureC, memory, disk] = await Promise.all([
    options.knownModel !== undefined
      ? options.knownModel
      : probe('model', () => readModel(options.deviceTreeModelPath ?? '/proc/device-tree/model')),
    probe('temperatureC', () => readTemperature(options.thermalDir ?? '/sys/class/thermal')),
    probe('memory', () => readMemory(options.memInfoPath ?? '/proc/meminfo')),
    probe('disk', () => readDisk(options.stateDir)),
  ]);
  // Load and uptime come from /proc/loadavg and /proc/uptime, which are not namespaced by the
  // container: they describe the Pi, and os reads them synchronously without spawning anything.
  const [load1, load5, load15] = os.loadavg();
  return {
    model,
    temperatureC,
    memoryTotalBytes: memory?.totalBytes,
    memoryAvailableBytes: memory?.availableBytes,
    disk,
    load:
      load1 !== undefined && load5 !== undefined && load15 !== undefined
        ? [load1, load5, load15]
        : undefined,
    uptimeSeconds: os.uptime(),
    readAt: Date.now(),
    errors,
  };
}
