import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { externalConnections } from './proc-net-tcp.js';

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
export async function externalAdbActivity(
  tablePaths: readonly string[],
  adbPorts: ReadonlySet<number>,
  log: Logger,
): Promise<boolean> {
  try {
    const tables = await Promise.all(tablePaths.map(readTable));
    const found = tables.flatMap((table) => externalConnections(table, adbPorts));
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

async function readTable(path: string): Promise<Uint8Array> {
  try {
    // The bytes as they are: the scan reads the ASCII in place, so no text is made of it.
    return await readFile(path);
  } catch (error) {
    // No tcp6 table on a kernel without IPv6: no connections of that family.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Uint8Array(0);
    throw error;
  }
}
