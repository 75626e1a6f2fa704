/**
 * The one place that loads `@devicefarmer/adbkit`. The rest of the adb layer sees
 * only the few typed functions below, so adbkit's Bluebird promises and loose types
 * stop here.
 */
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type * as AdbkitModule from '@devicefarmer/adbkit';
import type { AdbDevice } from '../device-io.js';

// adbkit is CommonJS with an __esModule default: Node's ESM loader hands `import Adb from`
// the whole module.exports (and finds no named `Adb`), vitest hands it exports.default.
// require() gives module.exports under both.
const { Adb } = createRequire(import.meta.url)('@devicefarmer/adbkit') as typeof AdbkitModule;

type Client = ReturnType<typeof Adb.createClient>;

/** An adbkit client, opaque outside this file. */
export interface AdbClient {
  readonly port: number;
  /** @internal */
  readonly client: Client;
}

export interface AdbClientOptions {
  port: number;
  host?: string;
  /**
   * Socket idle timeout in ms for every connection this client opens; adbkit's parser
   * ends the socket with a TimeoutError when it fires while a reply is awaited. 0 (the
   * default) means none, which a long-lived `trackDevices()` client must use: an idle
   * tracker would otherwise be killed (DESIGN §4).
   */
  socketTimeoutMs?: number;
}

/**
 * On ECONNREFUSED adbkit runs `<bin> -P <port> start-server` once per connection. With
 * the real adb that forks a daemon nobody supervises, which then holds the port our
 * supervised `server nodaemon` needs (it fails with "Address already in use"). `true`
 * does nothing and exits 0, so adbkit retries the connect once and reports the
 * ECONNREFUSED as it is. The adb layer starts servers only through AdbServerProcess.
 */
const NEVER_START_SERVER_BIN = 'true';

export function createAdbClient(options: AdbClientOptions): AdbClient {
  const client = Adb.createClient({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    bin: NEVER_START_SERVER_BIN,
    timeout: options.socketTimeoutMs ?? 0,
  });
  return { port: options.port, client };
}

function toAdbDevice(device: { id: string; type: string }): AdbDevice {
  return { serial: device.id, type: device.type };
}

/** `host:devices`: the server's current list. */
export async function listDevices(adb: AdbClient): Promise<AdbDevice[]> {
  return (await adb.client.listDevices()).map(toAdbDevice);
}

/** `host:version`: the server's protocol version (41 for adb 29). */
export async function serverVersion(adb: AdbClient): Promise<number> {
  return await adb.client.version();
}

/** `host:connect:<serial>`; adbkit rejects unless adb answers "connected to" or "already connected". */
export async function connectTcp(adb: AdbClient, serial: string): Promise<void> {
  await adb.client.connect(serial);
}

/** The `shell:` stream: stdout and stderr merged, no exit code, ends when the command does. */
export async function openShell(adb: AdbClient, serial: string, command: string): Promise<Duplex> {
  return await adb.client.getDevice(serial).shell(command);
}

/** `host:devices-l` as adb prints it (see devices-long.ts for what it holds). */
export async function listDevicesLong(adb: AdbClient): Promise<string> {
  const connection = await adb.client.connection();
  try {
    const service = 'host:devices-l';
    connection.write(Buffer.from(service.length.toString(16).padStart(4, '0') + service));
    const reply = await connection.parser.readAscii(4);
    if (reply === 'FAIL') await connection.parser.readError();
    if (reply !== 'OKAY')
      throw new Error(`host:devices-l: unexpected reply ${JSON.stringify(reply)}`);
    return (await connection.parser.readValue()).toString('utf8');
  } finally {
    connection.end();
  }
}

/**
 * Opens `reboot:` and resolves at the server's OKAY, which adb sends once the device has
 * accepted the service. adbkit's own reboot() then waits for the stream to end, which
 * on a real phone comes only when it drops off the bus, seconds later; the request is
 * already under way, so we end our side instead. `end` (not destroy) lets adb see an
 * orderly close.
 */
export async function requestReboot(adb: AdbClient, serial: string): Promise<void> {
  const transport = await adb.client.getDevice(serial).transport();
  try {
    const service = 'reboot:';
    transport.write(Buffer.from(service.length.toString(16).padStart(4, '0') + service));
    const reply = await transport.parser.readAscii(4);
    // readError() always rejects, with adb's reason ("device offline", ...).
    if (reply === 'FAIL') await transport.parser.readError();
    if (reply !== 'OKAY') throw new Error(`reboot: unexpected reply ${JSON.stringify(reply)}`);
  } finally {
    transport.end();
  }
}

/** The few events of adbkit's Tracker the adb layer relies on. */
export interface DeviceTrackerHandle {
  /**
   * Every update of the server's `host:track-devices` list, as the full list. adbkit
   * emits `changeSet` before it updates `deviceList`, so the list is read after the
   * emitting call has returned.
   */
  onList(listener: (devices: AdbDevice[]) => void): void;
  /** Fires once when the tracking connection is gone (adb server died, or end()). */
  onClosed(listener: (error: Error | undefined) => void): void;
  /** The latest full list the tracker has seen ([] before the server's first update). */
  current(): AdbDevice[];
  end(): void;
}

/** `host:track-devices` on its own connection. Use a client without a socket timeout. */
export async function trackDevices(adb: AdbClient): Promise<DeviceTrackerHandle> {
  const tracker = await adb.client.trackDevices();
  let closed = false;
  let lastError: Error | undefined;
  const closedListeners: ((error: Error | undefined) => void)[] = [];
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const listener of closedListeners) listener(lastError);
  };
  // adbkit emits `error` then `end` when the server goes away; either one means closed.
  tracker.on('error', (error: Error) => {
    lastError = error;
    close();
  });
  tracker.on('end', close);
  // deviceList is declared private but is the tracker's documented state.
  const state = tracker as unknown as { deviceList: { id: string; type: string }[] };
  const current = (): AdbDevice[] => state.deviceList.map(toAdbDevice);
  return {
    onList(listener) {
      tracker.on('changeSet', () => queueMicrotask(() => listener(current())));
    },
    onClosed(listener) {
      closedListeners.push(listener);
    },
    current,
    end() {
      tracker.end();
    },
  };
}
