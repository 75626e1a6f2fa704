/**
 * Which local process holds the other end of a loopback TCP connection,
 * found through procfs alone: Node has no SO_PEERCRED, and a native addon
 * would have to be built for three architectures.
 *
 * The kernel lists every TCP socket of the network namespace in
 * /proc/net/tcp with its inode; the client's entry is the one whose local
 * address is our peer's and whose remote address is ours. A process holds
 * that socket when one of its /proc/<pid>/fd links reads `socket:[inode]`.
 * Reading another user's fd links takes CAP_SYS_PTRACE (the agent's
 * container is privileged) or the same uid.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';

export interface Endpoint {
  address: string;
  port: number;
}

const PROC = '/proc';

/** /proc/net/tcp prints an IPv4 address as the in-memory 32-bit word, in host byte order. */
function hexAddress(address: string): string | undefined {
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    return undefined;
  }
  const ordered = endianness() === 'LE' ? octets.reverse() : octets;
  return ordered
    .map((o) => o.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

function hexEndpoint({ address, port }: Endpoint): string | undefined {
  const hex = hexAddress(address);
  return hex === undefined
    ? undefined
    : `${hex}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

/**
 * The inode of the socket at `peer` connected to `local` (both IPv4), or
 * undefined when there is none (the peer hung up, or it is not IPv4).
 */
export async function peerSocketInode(
  peer: Endpoint,
  local: Endpoint,
): Promise<number | undefined> {
  const wantLocal = hexEndpoint(peer);
  const wantRemote = hexEndpoint(local);
  if (wantLocal === undefined || wantRemote === undefined) return undefined;
  const table = await readFile(`${PROC}/net/tcp`, 'latin1');
  // Columns: sl local_address rem_address st queues tr retrnsmt uid timeout inode ...; the
  // table holds every TCP socket of the namespace, so only the matching line is parsed.
  const at = table.indexOf(` ${wantLocal} ${wantRemote} `);
  if (at < 0) return undefined;
  const end = table.indexOf('\n', at);
  const line = table.slice(at, end < 0 ? undefined : end);
  const inode = Number(line.trim().split(/\s+/)[8]);
  // Inode 0: a socket already closed by its process (TIME_WAIT), owned by nobody.
  return Number.isInteger(inode) && inode > 0 ? inode : undefined;
}

/** Whether `pid` has the socket `inode` open; false when the process is gone. */
export async function holdsSocket(pid: number, inode: number): Promise<boolean> {
  const dir = `${PROC}/${pid}/fd`;
  let fds: string[];
  try {
    fds = await readdir(dir);
  } catch {
    return false;
  }
  const wanted = `socket:[${inode}]`;
  for (const fd of fds) {
    // An fd closed between readdir and readlink is simply not the one.
    if ((await readlink(`${dir}/${fd}`).catch(() => '')) === wanted) return true;
  }
  return false;
}

/** The parent pid of `pid`, undefined when the process is gone. */
export async function parentPid(pid: number): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await readFile(`${PROC}/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after the last ')'.
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/**
 * The direct children of `pid`. Scans /proc: the kernels here lack
 * CONFIG_PROC_CHILDREN, and it is only needed on the rare sudo-shim call.
 */
export async function childrenOf(pid: number): Promise<number[]> {
  const pids = (await readdir(PROC)).filter((name) => /^\d+$/.test(name)).map(Number);
  const parents = await Promise.all(pids.map(parentPid));
  return pids.filter((_child, i) => parents[i] === pid);
}
