/** Small helpers shared by the benchmark sections: statistics, /proc readings, polling. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Quick mode (BENCH_QUICK=1) shrinks every window and count, for trying the harness out. */
export const QUICK = process.env.BENCH_QUICK === '1';
/** The same for `npm run soak` (SOAK_QUICK=1). */
export const SOAK_QUICK = process.env.SOAK_QUICK === '1';

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

export function summarise(values: readonly number[]): Summary {
  const n = values.length;
  return {
    n,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    min: n ? Math.min(...values) : NaN,
    max: n ? Math.max(...values) : NaN,
    mean: n ? values.reduce((a, b) => a + b, 0) / n : NaN,
  };
}

/** A deterministic random stream in [0, 1): the same figures' inputs on every run. */
export function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** A copy of `items` in an order drawn from `rand` (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Rounds for the JSON and the table: 3 significant digits, at most 3 decimals. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  const digits = Math.max(0, Math.min(3, 2 - Math.floor(Math.log10(Math.abs(x) || 1))));
  return Number(x.toFixed(digits));
}

/**
 * Polls `check` every `everyMs` until it returns something other than undefined; the
 * answer and when it was first seen (Date.now()). Throws after `timeoutMs`.
 */
export async function pollUntil<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 10,
): Promise<{ value: T; at: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await check();
    } catch {
      value = undefined;
    }
    if (value !== undefined) return { value, at: Date.now() };
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// /proc

const CLK_TCK = 100; // getconf CLK_TCK on every Linux we run on

export interface ProcSample {
  at: number;
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces; fields resume after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state(3) … utime(14) stime(15), i.e. indices 11 and 12 here.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return { at: Date.now(), cpuSeconds: ticks / CLK_TCK, rssBytes: rssKb * 1024 };
}

/**
 * Proportional set size (/proc/<pid>/smaps_rollup): each shared page split among the processes
 * that map it, so the PSS of several processes adds up to what they take together.
 */
export function pssBytes(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? NaN) * 1024;
}

/** Every process below `root` (children, grandchildren…), from the ppid in each /proc/<pid>/stat. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

export interface FdSample {
  /** Every open file descriptor. */
  fds: number;
  /** Those that are sockets (TCP, unix, netlink). */
  sockets: number;
}

/** The open file descriptors of a process of ours (same user), from /proc/<pid>/fd. */
export function fdSample(pid: number): FdSample {
  let sockets = 0;
  const entries = readdirSync(`/proc/${pid}/fd`);
  for (const fd of entries) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {
      // closed between the listing and the readlink
    }
  }
  return { fds: entries.length, sockets };
}

/** CPU share of one core between two samples, in percent. */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  return (100 * (b.cpuSeconds - a.cpuSeconds)) / ((b.at - a.at) / 1000);
}

// ---------------------------------------------------------------------------------------------
// adb's own notification: a `host:track-devices` stream on the adb server

export interface DeviceTracker {
  /** The latest table, serial → state. */
  readonly devices: Map<string, string>;
  /** Resolves with Date.now() of the first update in which `test` holds. */
  when(test: (devices: Map<string, string>) => boolean, timeoutMs: number): Promise<number>;
  close(): void;
}

/** Opens `host:track-devices` and parses its length-prefixed updates as they arrive. */
export function trackDevices(port: number): Promise<DeviceTracker> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createConnection({ host: '127.0.0.1', port });
    let buffer = '';
    let okay = false;
    const devices = new Map<string, string>();
    const waiters = new Set<() => void>();
    const tracker: DeviceTracker = {
      devices,
      when(test, timeoutMs) {
        return new Promise((res, rej) => {
          if (test(devices)) {
            res(Date.now());
            return;
          }
          const timer = setTimeout(() => {
            waiters.delete(check);
            rej(new Error(`track-devices: no matching update within ${timeoutMs} ms`));
          }, timeoutMs);
          const check = (): void => {
            if (!test(devices)) return;
            waiters.delete(check);
            clearTimeout(timer);
            res(Date.now());
          };
          waiters.add(check);
        });
      },
      close: () => socket.destroy(),
    };
    socket.setNoDelay(true);
    socket.on('connect', () => {
      const service = 'host:track-devices';
      socket.write(`${service.length.toString(16).padStart(4, '0')}${service}`);
    });
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      if (!okay) {
        if (buffer.length < 4) return;
        if (!buffer.startsWith('OKAY')) {
          reject(new Error(`track-devices refused: ${buffer}`));
          socket.destroy();
          return;
        }
        okay = true;
        buffer = buffer.slice(4);
        resolve(tracker);
      }
      while (buffer.length >= 4) {
        const length = parseInt(buffer.slice(0, 4), 16);
        if (buffer.length < 4 + length) break;
        const body = buffer.slice(4, 4 + length);
        buffer = buffer.slice(4 + length);
        devices.clear();
        for (const line of body.split('\n')) {
          const [serial, state] = line.split('\t');
          if (serial && state) devices.set(serial, state);
        }
        for (const check of [...waiters]) check();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Results

/** What the figures were measured on, and what else was running. */
export function machine(): Record<string, unknown> {
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  return {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryBytes: totalmem(),
    kernel: sh('uname', ['-r']),
    node: process.version,
    python: sh('python3', ['--version']),
    adb: sh('adb', ['version']).split('\n')[0],
    // Another engineer's multi-arch image build under qemu competes for the two cores.
    busy: sh('sh', ['-c', "pgrep -fa 'qemu|debootstrap|buildah' | cut -c1-120 || true"]),
    loadavg: sh('cat', ['/proc/loadavg']),
  };
}

/**
 * Runs the named sections in turn (all, or those in the comma-separated `only`), each to its
 * end even when another failed, and writes every row, the errors and the machine to
 * bench/results/<file>.
 */
export async function runSections<R>(
  label: string,
  sections: Record<string, () => Promise<R[]>>,
  only: string | undefined,
  quick: boolean,
  file: string,
): Promise<{ rows: R[]; errors: Record<string, string> }> {
  const names = only?.split(',').filter(Boolean) ?? Object.keys(sections);
  const before = machine();
  const rows: R[] = [];
  const errors: Record<string, string> = {};
  const started = Date.now();
  for (const name of names) {
    const section = sections[name];
    if (!section) throw new Error(`no section ${name}; have ${Object.keys(sections).join(', ')}`);
    console.error(`${label}: ${name}…`);
    const t0 = Date.now();
    try {
      rows.push(...(await section()));
    } catch (e) {
      errors[name] = (e as Error).stack ?? String(e);
      console.error(`${label}: ${name} failed: ${errors[name]}`);
    }
    console.error(`${label}: ${name} done in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  const result = {
    at: new Date().toISOString(),
    quick,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: before,
    loadavgAfter: machine().loadavg,
    rows,
    errors,
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', file), `${JSON.stringify(result, null, 2)}\n`);
  return { rows, errors };
}

export interface Row {
  section: string;
  figure: string;
  value: number;
  unit: string;
  /** The baseline measured in the same run, in the same unit. */
  floor?: number;
  floorLabel?: string;
  note?: string;
}

/** A plain-text table: a header, a rule, then each row, columns padded to their widest cell. */
export function printColumns(header: readonly string[], cells: readonly string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: readonly string[]): string =>
    c.map((x, i) => x.padEnd(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

export function printTable(rows: readonly Row[]): void {
  const cells = rows.map((r) => [
    r.section,
    r.figure,
    `${round(r.value)} ${r.unit}`,
    r.floor === undefined ? '' : `${round(r.floor)} ${r.unit} (${r.floorLabel ?? 'floor'})`,
    r.floor === undefined || r.floor === 0 ? '' : `×${round(r.value / r.floor)}`,
  ]);
  printColumns(['section', 'figure', 'value', 'floor', 'vs floor'], cells);
}
