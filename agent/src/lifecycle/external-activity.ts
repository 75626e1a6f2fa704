import { closeSync, openSync, readSync } from 'node:fs';
import type { Logger } from 'pino';
import { externalConnections, type TcpSocket } from './proc-net-tcp.js';

/** adb server (5037) and adbd over TCP (5555). */
export const ADB_PORTS: readonly number[] = [5037, 5555];
export const PROC_NET_TCP: readonly string[] = ['/proc/net/tcp', '/proc/net/tcp6'];

/**
 * Whether anyone outside the node holds an adb connection. A connection
 * cannot be tied to one phone (a remote adb client talks to the server on
 * 5037 for every phone, and adbd on 5555 is the phone's but its socket is
 * the server's), so one keeps every slot awake. Tables that cannot be
 * read count as activity: never sleep a phone someone may be using.
 */
export function externalAdbActivity(
  tablePaths: readonly string[],
  adbPorts: ReadonlySet<number>,
  log: Logger,
): boolean {
  try {
    const found = tablePaths.flatMap((path) => externalConnectionsIn(path, adbPorts));
    if (found.length > 0) {
      const peers = found.map((s) => `${s.remote}:${s.remotePort}->${s.localPort}`);
      log.info({ peers }, 'external adb connections: every slot counts as active');
    }
    return found.length > 0;
  } catch (error) {
    log.warn({ err: error }, 'cannot read the TCP tables; every slot counts as active');
    return true;
  }
}

/**
 * A table is read a piece at a time into this one buffer, and each piece's whole lines walked
 * while they are still in the CPU's cache: read whole, a busy node's 1.5 MB table was a new
 * allocation every check and was walked after it had left the cache, which cost as much again
 * as the read (BENCHMARKS.md, "Footprint (issue 16)", 28). 128 KiB fits the L2 cache of every
 * Pi. A line longer than it gets a larger buffer for that read only.
 */
const CHUNK_BYTES = 128 * 1024;
let shared: Buffer | undefined;
const NEWLINE = 0x0a;

/**
 * externalConnections of the table at `path`, read in pieces of `chunkBytes`; none when there is
 * no such table (a kernel without IPv6 has no tcp6). Read synchronously: these are kernel
 * tables in memory, never on a disk, and a check's read is shorter than an await's round trip.
 */
export function externalConnectionsIn(
  path: string,
  ports: ReadonlySet<number>,
  chunkBytes = CHUNK_BYTES,
): TcpSocket[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    if (shared?.length !== chunkBytes) shared = Buffer.allocUnsafe(chunkBytes);
    let chunk = shared;
    const found: TcpSocket[] = [];
    // Bytes of a line cut by the previous read, moved to the buffer's start.
    let carried = 0;
    for (;;) {
      const read = readSync(fd, chunk, carried, chunk.length - carried, null);
      const filled = carried + read;
      const lastNewline = read === 0 ? filled - 1 : chunk.lastIndexOf(NEWLINE, filled - 1);
      if (lastNewline < 0 && read > 0) {
        // One line longer than the buffer: grow it until the line fits.
        const larger = Buffer.allocUnsafe(chunk.length * 2);
        chunk.copy(larger, 0, 0, filled);
        chunk = larger;
        carried = filled;
        continue;
      }
      for (const socket of externalConnections(chunk.subarray(0, lastNewline + 1), ports))
        found.push(socket);
      if (read === 0) return found;
      chunk.copyWithin(0, lastNewline + 1, filled);
      carried = filled - lastNewline - 1;
    }
  } finally {
    closeSync(fd);
  }
}
