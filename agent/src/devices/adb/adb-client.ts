/**
 * The adb server's smart-socket protocol (adb's SERVICES.TXT) on node:net: every request
 * opens a TCP connection, sends the service name after its length in 4 hex digits, and
 * reads `OKAY`, or `FAIL` and a length-prefixed reason. Host services (`host:devices`,
 * `host:version`, `host:connect:`…) answer with a length-prefixed value; `host:transport:`
 * switches the connection to one device for a device service (`shell:`, `reboot:`).
 *
 * This replaced @devicefarmer/adbkit, which cost ~20 MiB of RSS and ~0.12 s of start-up
 * (Bluebird, node-forge, its whole API) for the seven requests below, and whose sockets
 * needed a wrapper to be closed at all (adbkit issue #526). Here every call closes its
 * connection when it settles, except the shell stream and the tracker, which it hands over.
 */
import { createConnection, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AdbDevice } from '../device-io.js';

/** Where and how to reach an adb server. */
export interface AdbClient {
  readonly port: number;
  readonly host: string;
  /** Idle timeout of each connection while a reply is awaited; 0 for none. */
  readonly socketTimeoutMs: number;
}

export interface AdbClientOptions {
  port: number;
  host?: string;
  /**
   * Socket idle timeout in ms while a reply is awaited: the connection is destroyed with an
   * error when the server stops answering. 0 (the default) means none, which a long-lived
   * `trackDevices()` must use: an idle tracker would otherwise be killed (DESIGN §4).
   */
  socketTimeoutMs?: number;
}

export function createAdbClient(options: AdbClientOptions): AdbClient {
  return {
    port: options.port,
    host: options.host ?? '127.0.0.1',
    socketTimeoutMs: options.socketTimeoutMs ?? 0,
  };
}

/**
 * A connection to the server. It is read in paused mode (`read(n)`), so bytes beyond a reply
 * stay in the socket for whoever it is handed to. Never starts a server on ECONNREFUSED: the
 * adb layer starts servers only through AdbServerProcess.
 */
function open(adb: AdbClient): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: adb.host, port: adb.port });
    socket.setNoDelay(true);
    if (adb.socketTimeoutMs > 0) {
      socket.setTimeout(adb.socketTimeoutMs, () =>
        socket.destroy(new Error(`adb server silent for ${adb.socketTimeoutMs} ms`)),
      );
    }
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      // Failures surface through the read that is waiting; none must go unheard.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

/** Exactly `length` bytes; rejects if the connection ends or fails first. */
function readBytes(socket: Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      socket.off('readable', tryRead);
      socket.off('end', ended);
      socket.off('close', ended);
      socket.off('error', failed);
    };
    if (socket.destroyed || socket.readableEnded) {
      reject(socket.errored ?? new Error('adb server closed the connection'));
      return;
    }
    const tryRead = (): void => {
      const chunk = length === 0 ? Buffer.alloc(0) : (socket.read(length) as Buffer | null);
      if (chunk === null) return;
      done();
      if (chunk.length === length) resolve(chunk);
      else
        reject(new Error(`adb server closed the connection ${length - chunk.length} bytes early`));
    };
    const ended = (): void => {
      done();
      reject(new Error('adb server closed the connection'));
    };
    const failed = (error: Error): void => {
      done();
      reject(error);
    };
    socket.on('readable', tryRead);
    socket.once('end', ended);
    socket.once('close', ended);
    socket.once('error', failed);
    tryRead();
  });
}

/** A length-prefixed value: 4 hex digits, then that many bytes. */
async function readValue(socket: Socket): Promise<Buffer> {
  const header = (await readBytes(socket, 4)).toString('latin1');
  const length = Number.parseInt(header, 16);
  if (!/^[0-9a-fA-F]{4}$/.test(header)) throw new Error(`adb sent ${JSON.stringify(header)}`);
  return readBytes(socket, length);
}

/** Sends one request; resolves at OKAY, rejects with adb's reason at FAIL. */
async function request(socket: Socket, service: string): Promise<void> {
  socket.write(`${service.length.toString(16).padStart(4, '0')}${service}`);
  const reply = (await readBytes(socket, 4)).toString('latin1');
  if (reply === 'FAIL') throw new Error(`adb: ${(await readValue(socket)).toString('utf8')}`);
  if (reply !== 'OKAY') throw new Error(`unexpected reply ${JSON.stringify(reply)} to ${service}`);
}

/**
 * Runs one exchange on a connection of its own. The connection is destroyed once the
 * exchange settles, unless it succeeded and hands the socket over (`handOver`), which
 * makes it the caller's to close.
 */
async function exchange<T>(
  adb: AdbClient,
  run: (socket: Socket) => Promise<T>,
  handOver = false,
): Promise<T> {
  const socket = await open(adb);
  let handedOver = false;
  try {
    const value = await run(socket);
    handedOver = handOver;
    return value;
  } finally {
    if (handedOver) socket.setTimeout(0);
    else socket.destroy();
  }
}

/** A host service's length-prefixed answer, as text. */
function hostQuery(adb: AdbClient, service: string): Promise<string> {
  return exchange(adb, async (socket) => {
    await request(socket, service);
    return (await readValue(socket)).toString('utf8');
  });
}

/** `serial<TAB>state` lines, as `host:devices` and `host:track-devices` print them. */
function parseDevices(text: string): AdbDevice[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [serial = '', type = ''] = line.split('\t');
      return { serial, type };
    });
}

/** `host:devices`: the server's current list. */
export async function listDevices(adb: AdbClient): Promise<AdbDevice[]> {
  return parseDevices(await hostQuery(adb, 'host:devices'));
}

/** `host:devices-l` as adb prints it (see devices-long.ts for what it holds). */
export function listDevicesLong(adb: AdbClient): Promise<string> {
  return hostQuery(adb, 'host:devices-l');
}

/** `host:version`: the server's protocol version (41 for adb 29). */
export async function serverVersion(adb: AdbClient): Promise<number> {
  return Number.parseInt(await hostQuery(adb, 'host:version'), 16);
}

/**
 * `host:connect:<host>:<port>` (port 5555 unless the serial names one). adb answers OKAY
 * with a message either way: only "connected to" / "already connected to" mean success.
 */
export async function connectTcp(adb: AdbClient, serial: string): Promise<void> {
  const target = serial.includes(':') ? serial : `${serial}:5555`;
  const message = await hostQuery(adb, `host:connect:${target}`);
  if (!/connected to|already connected/.test(message)) throw new Error(message);
}

/**
 * The `shell:` stream: stdout and stderr merged, no exit code, ends when the command
 * does. The caller must read it to its end or destroy it.
 */
export function openShell(adb: AdbClient, serial: string, command: string): Promise<Duplex> {
  return exchange(
    adb,
    async (socket) => {
      await request(socket, `host:transport:${serial}`);
      await request(socket, `shell:${command}`);
      return socket;
    },
    true,
  );
}

/**
 * Opens `reboot:` and resolves at the server's OKAY, which adb sends once the device has
 * accepted the service. The stream ends only when a real phone drops off the bus, seconds
 * later; the request is already under way, so the connection is closed at once (nothing
 * is left unread, so the server sees a plain FIN).
 */
export function requestReboot(adb: AdbClient, serial: string): Promise<void> {
  return exchange(adb, async (socket) => {
    await request(socket, `host:transport:${serial}`);
    await request(socket, 'reboot:');
  });
}

/** The device tracking connection the adb layer relies on. */
export interface DeviceTrackerHandle {
  /** Every update of the server's `host:track-devices` list, as the full list. */
  onList(listener: (devices: AdbDevice[]) => void): void;
  /** Fires once when the tracking connection is gone (adb server died, or end()). */
  onClosed(listener: (error: Error | undefined) => void): void;
  /** The latest full list the tracker has seen ([] before the server's first update). */
  current(): AdbDevice[];
  end(): void;
}

/**
 * `host:track-devices` on its own connection (use a client without a socket timeout): the
 * server sends the whole list at once and again after every change.
 */
export async function trackDevices(adb: AdbClient): Promise<DeviceTrackerHandle> {
  const socket = await exchange(adb, (s) => request(s, 'host:track-devices').then(() => s), true);
  let list: AdbDevice[] = [];
  let closed = false;
  let lastError: Error | undefined;
  const listListeners: ((devices: AdbDevice[]) => void)[] = [];
  const closedListeners: ((error: Error | undefined) => void)[] = [];
  const close = (error: Error | undefined): void => {
    if (closed) return;
    closed = true;
    lastError = error;
    socket.destroy();
    for (const listener of closedListeners) listener(error);
  };
  void (async () => {
    for (;;) {
      const value = await readValue(socket);
      list = parseDevices(value.toString('utf8'));
      for (const listener of listListeners) listener(list);
    }
  })().catch((error: unknown) => close(error as Error));
  return {
    onList(listener) {
      listListeners.push(listener);
    },
    onClosed(listener) {
      if (closed) listener(lastError);
      else closedListeners.push(listener);
    },
    current: () => list,
    end() {
      close(undefined);
    },
  };
}
