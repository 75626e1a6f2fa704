import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errorMessage, withTimeout } from '@farm-agent/bot-config/lib';
import * as si from 'systeminformation';

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
}

export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;

async function readModel(deviceTreeModelPath: string): Promise<string | undefined> {
  try {
    // The device tree string is NUL-terminated.
    const model = (await readFile(deviceTreeModelPath, 'utf8')).replace(/\0+$/, '').trim();
    if (model !== '') return model;
  } catch {
    // No device tree: not a Pi (x86 lab box, CI); DMI knows the model there.
  }
  const system = await si.system();
  const model = [system.manufacturer, system.model].filter((part) => part && part !== '-');
  return model.length > 0 ? model.join(' ') : undefined;
}

async function readTemperature(): Promise<number | undefined> {
  // Note: systeminformation reads the thermal zones with a short synchronous `cat` of sysfs
  // files before its asynchronous probes; only the asynchronous part can be bounded here.
  const { main } = await si.cpuTemperature();
  return typeof main === 'number' && Number.isFinite(main) ? main : undefined;
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
    probe('temperatureC', readTemperature),
    probe('memory', () => si.mem()),
    probe('disk', () => readDisk(options.stateDir)),
  ]);
  // Load and uptime come from /proc/loadavg and /proc/uptime, which are not namespaced by the
  // container: they describe the Pi, and os reads them synchronously without spawning anything.
  const [load1, load5, load15] = os.loadavg();
  return {
    model,
    temperatureC,
    memoryTotalBytes: memory?.total,
    memoryAvailableBytes: memory?.available,
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
