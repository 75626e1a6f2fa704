/**
 * 5. Idle checker: scanning a /proc/net/tcp of 10,000 sockets with the agent's own read, parser
 * and filter (externalConnectionsIn: the table read a piece at a time into one buffer), beside
 * the raw read of the same file (readFileSync's bytes), the read as latin1 text and the earlier
 * floor, the read split into lines. The whole-file read and walk the agent did before is timed
 * too, against the same floors.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { externalConnectionsIn } from '../../agent/src/lifecycle/external-activity.js';
import { externalConnections } from '../../agent/src/lifecycle/proc-net-tcp.js';
import { QUICK, random, shuffled, summarise, type Row, type Summary } from '../lib.js';

const SOCKETS = 10_000;
const RUNS = QUICK ? 20 : 200;
const ADB_PORTS = new Set([5037, 5555]);

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');
/** An IPv4 address as the kernel prints it: the 32-bit word in little-endian byte order. */
const addr = (a: number, b: number, c: number, d: number): string =>
  [d, c, b, a].map((x) => hex(x, 2)).join('');

/**
 * A busy node's table: a few listeners, the agent's loopback connections to adb, phones' adbd
 * connections, kubelet/containerd chatter, TIME_WAITs, and three outside adb clients.
 */
export function procNetTcp(count: number): string {
  const lines = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  ];
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < count; i++) {
    let local: string;
    let remote: string;
    let st: number;
    const kind = i < 20 ? 'listen' : i < 23 ? 'external' : rand(10);
    if (kind === 'listen') {
      local = `${addr(0, 0, 0, 0)}:${hex([5037, 8080, 10250, 22, 11000][i % 5] ?? 0, 4)}`;
      remote = `${addr(0, 0, 0, 0)}:0000`;
      st = 0x0a;
    } else if (kind === 'external') {
      local = `${addr(10, 0, 0, 7)}:${hex(5037, 4)}`;
      remote = `${addr(10, 0, 1, 20 + i)}:${hex(40_000 + i, 4)}`;
      st = 0x01;
    } else if (kind < 4) {
      // the agent (and bots) talking to the adb server over loopback
      local = `${addr(127, 0, 0, 1)}:${hex(5037, 4)}`;
      remote = `${addr(127, 0, 0, 1)}:${hex(30_000 + rand(30_000), 4)}`;
      st = 0x01;
    } else if (kind < 6) {
      // kubelet, containerd, the API server
      local = `${addr(10, 0, 0, 7)}:${hex(30_000 + rand(30_000), 4)}`;
      remote = `${addr(10, 0, 0, 1)}:${hex(6443, 4)}`;
      st = 0x01;
    } else {
      local = `${addr(10, 0, 0, 7)}:${hex(30_000 + rand(30_000), 4)}`;
      remote = `${addr(10, 0, rand(4), rand(250))}:${hex(443, 4)}`;
      st = rand(2) === 0 ? 0x06 : 0x01; // TIME_WAIT or ESTABLISHED
    }
    const inode = 100_000 + i;
    lines.push(
      `${String(i).padStart(4)}: ${local} ${remote} ${hex(st, 2)} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 20 4 30 10 -1`,
    );
  }
  // As the kernel prints it: every IPv4 line padded to 149 characters (tcp4_seq_show).
  return lines.map((line) => `${line.padEnd(149)}\n`).join('');
}

/**
 * The summarised milliseconds per call of each of `fns`, taken in turn (one call of each per
 * round), so that load from other processes falls on the scan and its floors alike. Each round
 * takes them in a new order: in a fixed one the scan always came after the split, whose 10,000
 * strings left it a colder cache and more garbage, and the raw read always after the scan, which
 * leaves almost none (the scan's ratio to the raw read was ~0.5 higher for it).
 */
function time<K extends string>(fns: Record<K, () => unknown>): Record<K, Summary> {
  const entries = Object.entries(fns) as [K, () => unknown][];
  for (let i = 0; i < 10; i++) entries.forEach(([, fn]) => fn());
  const out = new Map(entries.map(([name]) => [name, [] as number[]]));
  const rand = random(11);
  for (let i = 0; i < RUNS; i++) {
    for (const [name, fn] of shuffled(entries, rand)) {
      const t0 = process.hrtime.bigint();
      fn();
      out.get(name)?.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return Object.fromEntries(
    entries.map(([name]) => [name, summarise(out.get(name) ?? [])]),
  ) as Record<K, Summary>;
}

export async function idle(): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-tcp-'));
  const file = join(dir, 'tcp');
  try {
    writeFileSync(file, procNetTcp(SOCKETS));
    let found = 0;
    let foundWhole = 0;
    const {
      scan: s,
      whole,
      raw,
      latin1,
      split,
    } = time({
      scan: () => {
        found = externalConnectionsIn(file, ADB_PORTS).length;
      },
      whole: () => {
        foundWhole = externalConnections(readFileSync(file), ADB_PORTS).length;
      },
      raw: () => readFileSync(file),
      latin1: () => readFileSync(file, 'latin1'),
      split: () => readFileSync(file, 'utf8').split('\n'),
    });
    if (found !== 3 || foundWhole !== 3)
      throw new Error(`the scans found ${found} and ${foundWhole} outside adb clients, not 3`);
    const floors = [
      [raw, 'raw read (readFileSync bytes)'],
      [latin1, 'read as text (readFileSync latin1)'],
      [split, 'readFileSync utf8 + split'],
    ] as const;
    const rows = (label: string, scan: Summary, p: 'min' | 'p50' | 'p99'): Row[] =>
      floors.map(([f, floorLabel]) => ({
        section: '5 idle check',
        figure: `${label}, 10k sockets, ${p}`,
        value: scan[p],
        unit: 'ms',
        floor: f[p],
        floorLabel,
        note: `n=${scan.n}`,
      }));
    return (['min', 'p50', 'p99'] as const).flatMap((p) => [
      ...rows('externalConnectionsIn (read in pieces + walk)', s, p),
      ...(p === 'p50' ? rows('whole-file read + externalConnections (before)', whole, p) : []),
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
