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

/** Whether to decode a socket: its state, local port, and whether the peer is loopback. */
export type KeepSocket = (state: number, localPort: number, remoteIsLoopback: boolean) => boolean;

/**
 * Parses one table; header and malformed lines are skipped, never fatal.
 * `keep` sees each socket's state, local port and whether its peer is this
 * host's loopback before any address is decoded: a busy node has thousands of
 * sockets and the idle check wants a handful, so the rest should cost as
 * little as possible. Lines are walked in
 * place by position (the kernel prints them with a fixed layout), not split
 * into strings: splitting 10,000 lines into fields cost 7× reading the file.
 */
export function parseProcNetTcp(text: string, keep: KeepSocket = () => true): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const socket = parseLine(text, start, end, keep);
    if (socket) sockets.push(socket);
    start = end + 1;
  }
  return sockets;
}

const SPACE = 0x20;
const COLON = 0x3a;

/**
 * One line, `%4d: LOCAL:PORT REMOTE:PORT ST ...` with each address 8 (IPv4) or 32 (IPv6) hex
 * digits and each port 4, from `start` to `end` (its newline).
 */
function parseLine(
  text: string,
  start: number,
  end: number,
  keep: KeepSocket,
): TcpSocket | undefined {
  const slotColon = text.indexOf(':', start);
  if (slotColon < 0 || slotColon >= end) return undefined;
  let local = slotColon + 1;
  while (local < end && text.charCodeAt(local) === SPACE) local += 1;
  const localColon = text.indexOf(':', local);
  const width = localColon - local;
  if (width !== 8 && width !== 32) return undefined;
  const remote = localColon + 6;
  const stateAt = remote + width + 6;
  const laidOut =
    stateAt + 2 <= end &&
    text.charCodeAt(remote - 1) === SPACE &&
    text.charCodeAt(remote + width) === COLON &&
    text.charCodeAt(stateAt - 1) === SPACE &&
    (stateAt + 2 === end || text.charCodeAt(stateAt + 2) === SPACE);
  if (!laidOut) return undefined;
  const state = hexAt(text, stateAt, 2);
  const localPort = hexAt(text, localColon + 1, 4);
  if (state < 0 || localPort < 0) return undefined;
  if (!keep(state, localPort, isLoopbackHex(text, remote, width))) return undefined;
  const remotePort = hexAt(text, remote + width + 1, 4);
  const localAddress = decodeAddress(text.slice(local, localColon));
  const remoteAddress = decodeAddress(text.slice(remote, remote + width));
  if (remotePort < 0 || localAddress === undefined || remoteAddress === undefined) return undefined;
  return { local: localAddress, localPort, remote: remoteAddress, remotePort, state };
}

/** The `digits` hex digits at `at` as a number; -1 if one is not a hex digit. */
function hexAt(text: string, at: number, digits: number): number {
  let value = 0;
  for (let i = at; i < at + digits; i += 1) {
    const c = text.charCodeAt(i);
    const digit =
      c >= 0x30 && c <= 0x39
        ? c - 0x30
        : c >= 0x41 && c <= 0x46
          ? c - 0x37
          : c >= 0x61 && c <= 0x66
            ? c - 0x57
            : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
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

/**
 * Loopback in either family, read from the hex at `at` (8 or 32 digits): 127.0.0.0/8, `::1`,
 * and IPv4-mapped `::ffff:127.*`. Each 32-bit word is little-endian, so an IPv4 address's first
 * byte is its word's last two digits.
 */
function isLoopbackHex(text: string, at: number, width: number): boolean {
  if (width === 8) return hexAt(text, at + 6, 2) === 127;
  if (hexAt(text, at, 8) !== 0 || hexAt(text, at + 8, 8) !== 0) return false;
  const third = hexAt(text, at + 16, 8);
  const fourth = hexAt(text, at + 24, 8);
  if (third === 0) return fourth === 0x01000000;
  return third === 0xffff0000 && hexAt(text, at + 30, 2) === 127;
}

/**
 * ESTABLISHED connections to one of `ports` in a socket table, from a peer that is not this
 * host's loopback: someone outside the pod (a developer's `adb connect`, a
 * remote adb client) is using the phones. The agent's own adb client always
 * holds loopback connections, which must not count.
 */
export function externalConnections(table: string, ports: ReadonlySet<number>): TcpSocket[] {
  return parseProcNetTcp(
    table,
    (state, port, remoteIsLoopback) =>
      state === ESTABLISHED && ports.has(port) && !remoteIsLoopback,
  );
}
