/**
 * Reads `/proc/net/tcp` and `/proc/net/tcp6` (the socket tables of the
 * reader's network namespace: the DaemonSet runs with hostNetwork so these
 * are the node's). Addresses are hex, each 32-bit word in host byte order —
 * little-endian on every board we run on.
 */

export interface TcpSocket {
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  /** The kernel's state number; 1 is ESTABLISHED. */
  state: number;
}

const ESTABLISHED = 1;

/**
 * Parses one table; header and malformed lines are skipped, never fatal.
 * `keep` sees each socket's state and local port before its addresses are
 * decoded: a busy node has thousands of sockets and the idle check wants a
 * handful, so the rest should cost as little as possible.
 */
export function parseProcNetTcp(
  text: string,
  keep: (state: number, localPort: number) => boolean = () => true,
): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const line of text.split('\n')) {
    // fields: sl, local_address, rem_address, st, ...
    const [, local, remote, st] = line.trim().split(/\s+/, 4);
    if (!local || !remote || !st || !/^[0-9A-Fa-f]{2}$/.test(st)) continue;
    const state = parseInt(st, 16);
    const localPort = portOf(local);
    if (localPort === undefined || !keep(state, localPort)) continue;
    const l = splitEndpoint(local);
    const r = splitEndpoint(remote);
    if (!l || !r) continue;
    sockets.push({
      local: l.address,
      localPort: l.port,
      remote: r.address,
      remotePort: r.port,
      state,
    });
  }
  return sockets;
}

function portOf(endpoint: string): number | undefined {
  const hex = endpoint.slice(endpoint.indexOf(':') + 1);
  return /^[0-9A-Fa-f]{4}$/.test(hex) ? parseInt(hex, 16) : undefined;
}

function splitEndpoint(field: string): { address: string; port: number } | undefined {
  const colon = field.indexOf(':');
  if (colon < 0) return undefined;
  const hex = field.slice(0, colon);
  const portHex = field.slice(colon + 1);
  if (!/^[0-9A-Fa-f]{4}$/.test(portHex)) return undefined;
  const address = decodeAddress(hex);
  return address === undefined ? undefined : { address, port: parseInt(portHex, 16) };
}

/** `0100007F` → `127.0.0.1`; 32 hex digits → a compressed-enough IPv6 text. */
export function decodeAddress(hex: string): string | undefined {
  if (!/^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32})$/.test(hex)) return undefined;
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    // Each 32-bit word is little-endian: its bytes appear last-first.
    for (let b = 6; b >= 0; b -= 2) bytes.push(parseInt(hex.slice(word + b, word + b + 2), 16));
  }
  if (bytes.length === 4) return bytes.join('.');
  const isV4Mapped =
    bytes.slice(0, 10).every((x) => x === 0) && bytes[10] === 255 && bytes[11] === 255;
  if (isV4Mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Loopback in either family: 127.0.0.0/8, `::1`, and IPv4-mapped `::ffff:127.*`. */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/**
 * ESTABLISHED connections to one of `ports` in a socket table, from a peer that is not this
 * host's loopback: someone outside the pod (a developer's `adb connect`, a
 * remote adb client) is using the phones. The agent's own adb client always
 * holds loopback connections, which must not count.
 */
export function externalConnections(table: string, ports: ReadonlySet<number>): TcpSocket[] {
  return parseProcNetTcp(table, (state, port) => state === ESTABLISHED && ports.has(port)).filter(
    (s) => !isLoopback(s.remote),
  );
}
