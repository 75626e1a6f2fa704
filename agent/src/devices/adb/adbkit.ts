/**
 * The one place that loads `@devicefarmer/adbkit`. The rest of the adb layer sees
 * only the few typed functions below, so adbkit's Bluebird promises and loose types
 * stop here.
 */
import type { Socket } from 'node:net';
import * as adbkit from '@devicefarmer/adbkit';
import type * as AdbkitModule from '@devicefarmer/adbkit';
import type { AdbDevice } from '../device-io.js';

// adbkit is CommonJS whose named exports Node's ESM loader cannot see: under Node the namespace
// holds `default` (module.exports, which carries `Adb`); under the bundler and vitest it carries
// `Adb` itself. A static import, not require(), so the bundle (agent/rolldown.config.mjs) takes
// adbkit in rather than loading it from node_modules at run time.
const namespace = adbkit as Partial<typeof AdbkitModule> & { default: typeof AdbkitModule };
const { Adb } =
  namespace.Adb === undefined ? namespace.default : (namespace as typeof AdbkitModule);

type Client = ReturnType<typeof Adb.createClient>;
type ClientOptions = ConstructorParameters<typeof AdbkitModule.Client>[0];
type Connection = Awaited<ReturnType<Client['connection']>>;

/** Where and how to reach an adb server; opaque outside this file. */
export interface AdbClient {
  readonly port: number;
  /** @internal */
  readonly options: ClientOptions;
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
  return {
    port: options.port,
    options: {
      host: options.host ?? '127.0.0.1',
      port: options.port,
      bin: NEVER_START_SERVER_BIN,
      timeout: options.socketTimeoutMs ?? 0,
    },
  };
}

/**
 * Runs one adbkit call on a client of its own that records every connection the call
 * opens. adbkit never destroys a connection once a command has its answer (nor after
 * its own timeouts, which only half-close), and a socket whose peer's FIN arrived while
 * reply bytes were still buffered never emits `end`, so Node never closes it: it stays
 * open, in TCP state CLOSE, for good (adbkit issue #526; measured: one fd per
 * `host:devices-l`, which every phone attach sends). So once the call has settled its
 * connections are destroyed here, except when it succeeded and hands them over
 * (`handOver`: the tracker), which makes them the caller's to close.
 */
async function call<R extends PromiseLike<unknown>>(
  adb: AdbClient,
  run: (client: Client) => R,
  handOver = false,
): Promise<{ value: Awaited<R>; sockets: Socket[] }> {
  const client = Adb.createClient(adb.options);
  // adbkit re-emits an idle socket's error on the client, and an unheard `error` event
  // ends the process; the call's own promise carries every failure that matters.
  client.on('error', () => undefined);
  const sockets: Socket[] = [];
  const connect = client.connection.bind(client);
  client.connection = () =>
    connect().then((connection: Connection) => {
      sockets.push(connection.getSocket() as Socket);
      return connection;
    });
  let handedOver = false;
  try {
    const value = await run(client);
    handedOver = handOver;
    return { value, sockets };
  } finally {
    if (!handedOver) for (const socket of sockets) socket.destroy();
  }
}

function toAdbDevice(device: { id: string; type: string }): AdbDevice {
  return { serial: device.id, type: device.type };
}

/** `host:version`: the server's protocol version (41 for adb 29). */
export async function serverVersion(adb: AdbClient): Promise<number> {
  return (await call(adb, (client) => client.version())).value;
}

/** `host:connect:<serial>`; adbkit rejects unless adb answers "connected to" or "already connected". */
export async function connectTcp(adb: AdbClient, serial: string): Promise<void> {
  await call(adb, (client) => client.connect(serial));
}

/** One smart-socket request on an open connection; resolves at OKAY, rejects with adb's FAIL reason. */
async function request(connection: Connection, service: string): Promise<void> {
  connection.write(Buffer.from(service.length.toString(16).padStart(4, '0') + service));
  const reply = await connection.parser.readAscii(4);
  // readError() always rejects, with adb's reason ("device offline", ...).
  if (reply === 'FAIL') await connection.parser.readError();
  if (reply !== 'OKAY') throw new Error(`unexpected reply ${JSON.stringify(reply)} to ${service}`);
}

/** A host service answered with OKAY and one length-prefixed string. */
async function hostValue(adb: AdbClient, service: string): Promise<string> {
  const { value } = await call(adb, async (client) => {
    const connection = await client.connection();
    await request(connection, service);
    return (await connection.parser.readValue()).toString('utf8');
  });
  return value;
}

/** `host:devices-l` as adb prints it (see devices-long.ts for what it holds). */
export function listDevicesLong(adb: AdbClient): Promise<string> {
  return hostValue(adb, 'host:devices-l');
}

/**
 * `host:reconnect-offline` (`adb reconnect offline`): the server resets every
 * transport that is not online and answers `reconnecting <serial>` per device,
 * one a line (checked with adb 29). A USB phone re-enumerates; a TCP phone is
 * dropped and must be connected again. Other phones are left alone, unlike
 * `kill-server`.
 */
export function reconnectOffline(adb: AdbClient): Promise<string> {
  return hostValue(adb, 'host:reconnect-offline');
}

/**
 * Opens `reboot:` and resolves at the server's OKAY, which adb sends once the device has
 * accepted the service. adbkit's own reboot() then waits for the stream to end, which
 * on a real phone comes only when it drops off the bus, seconds later; the request is
 * already under way, so the connection is closed at once (call() destroys it: nothing
 * is left unread, so the server sees a plain FIN).
 */
export async function requestReboot(adb: AdbClient, serial: string): Promise<void> {
  await call(adb, async (client) => {
    await request(await client.getDevice(serial).transport(), 'reboot:');
  });
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

/**
 * `host:track-devices` on its own connection. Use a client without a socket timeout.
 * Once closed (the server went away, or end()) the connection is destroyed: adbkit
 * waits for an `end` that a destroyed or stalled socket never emits.
 */
export async function trackDevices(adb: AdbClient): Promise<DeviceTrackerHandle> {
  const { value: tracker, sockets } = await call(adb, (client) => client.trackDevices(), true);
  let closed = false;
  let lastError: Error | undefined;
  const closedListeners: ((error: Error | undefined) => void)[] = [];
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const socket of sockets) socket.destroy();
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
      if (closed) listener(lastError);
      else closedListeners.push(listener);
    },
    current,
    end() {
      tracker.end();
      close();
    },
  };
}
