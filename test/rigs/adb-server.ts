/**
 * A real Debian adb server per test: its own port and its own HOME, so keys,
 * `adb connect` history and state never leak between tests or into the user's ~/.android.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export const ADB_BIN = process.env.ADB_BIN ?? '/usr/bin/adb';

export interface AdbServerHandle {
  readonly port: number;
  readonly pid: number;
  /** Environment the server runs with; pass it to any extra `adb` client you spawn. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs `adb -P port <args>` and returns stdout + stderr (adb prints errors on either). */
  adb(...args: string[]): Promise<string>;
  /** `adb connect serial`; throws unless adb reports `connected to` / `already connected to`. */
  connect(serial: string): Promise<void>;
  /**
   * Sends `host:connect:<serial>` and returns without waiting for the handshake. For a
   * phone that never answers CNXN, `adb connect` blocks 10 s and then fails while the
   * server keeps the device listed as `offline`; this gets the listing without the wait.
   */
  connectNoWait(serial: string): Promise<void>;
  disconnect(serial: string): Promise<void>;
  /** The `adb devices` table as serial → state. */
  devices(): Promise<Map<string, string>>;
  /**
   * Polls `adb devices` until `serial` shows `state` (undefined: not listed) and returns
   * the milliseconds it took; throws after timeoutMs.
   */
  waitForState(serial: string, state: string | undefined, timeoutMs?: number): Promise<number>;
  /** SIGKILL, as if it crashed; resolves when the process has exited. */
  kill(): Promise<void>;
  /** Orderly stop (SIGTERM, then SIGKILL after a grace period) and removal of its HOME. */
  stop(): Promise<void>;
}

const live = new Set<AdbServerHandle>();

/**
 * No adb server may outlive the test process, even when a vitest worker is killed
 * outright (no exit hook runs then; checked by SIGKILLing a worker). A detached `sh`
 * blocks reading a pipe from us; when our end closes, however we died, it SIGKILLs the
 * server and removes its HOME. Once the server has exited we SIGKILL the watchdog, so
 * it can never hit a recycled PID.
 */
function watchOverServer(pid: number, home: string): ChildProcess {
  const script = 'read _ignored; kill -9 "$1" 2>/dev/null; sleep 0.2; rm -rf "$2"';
  const watchdog = spawn('sh', ['-c', script, 'sh', String(pid), home], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.unref();
  (watchdog.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
  return watchdog;
}

/** Every server still running; tests call this in afterEach/afterAll to be sure. */
export async function stopAllAdbServers(): Promise<void> {
  await Promise.all([...live].map((server) => server.stop()));
}

/** One request of adb's smart-socket protocol: 4 hex length digits, then the service. */
export function hostRequest(port: number, service: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`${service}: timed out`)));
    socket.on('connect', () => {
      socket.write(`${service.length.toString(16).padStart(4, '0')}${service}`);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return once(child, 'exit').then(() => undefined);
}

async function waitUntilAnswering(port: number, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`adb server exited early:\n${log()}`);
    try {
      // OKAY + 4 hex digits + the version, e.g. OKAY0004 0029.
      if ((await hostRequest(port, 'host:version', 500)).startsWith('OKAY')) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`adb server did not answer:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function startAdbServer(): Promise<AdbServerHandle> {
  const home = await mkdtemp(join(tmpdir(), 'adb-home-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    // adb 29 reads keys from $ANDROID_SDK_HOME/.android (falling back to $HOME).
    ANDROID_SDK_HOME: home,
    ADB_VENDOR_KEYS: '',
    // Servers must not find each other's sockets or inherit the user's.
    ANDROID_ADB_SERVER_PORT: String(port),
    ADB_MDNS: '0',
  };
  delete env.ANDROID_SERIAL;
  // `server nodaemon` keeps adb in the foreground so its PID is ours to kill.
  const child = spawn(ADB_BIN, ['-P', String(port), 'server', 'nodaemon'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${ADB_BIN}`);
  const watchdog = watchOverServer(pid, home);
  const reaped = exited(child).then(() => {
    watchdog.kill('SIGKILL');
  });

  const adb = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(ADB_BIN, ['-P', String(port), ...args], { env, timeout: 20_000 }, (e, out, err) =>
        e
          ? reject(new Error(`adb ${args.join(' ')}: ${e.message}\n${out}${err}`))
          : resolve(out + err),
      );
    });

  let stopping: Promise<void> | undefined;
  const handle: AdbServerHandle = {
    port,
    pid,
    env,
    adb,
    async connect(serial) {
      const out = await adb('connect', serial);
      if (!/^(already )?connected to /m.test(out)) {
        throw new Error(`adb connect ${serial}: ${out.trim()}`);
      }
    },
    async connectNoWait(serial) {
      await hostRequest(port, `host:connect:${serial}`, 100).catch(() => undefined);
    },
    async disconnect(serial) {
      await adb('disconnect', serial);
    },
    async devices() {
      const out = await adb('devices');
      const table = new Map<string, string>();
      for (const line of out.split('\n').slice(1)) {
        const [serial, state] = line.trim().split(/\s+/);
        if (serial && state) table.set(serial, state);
      }
      return table;
    },
    async waitForState(serial, state, timeoutMs = 5000) {
      const started = Date.now();
      let seen: string | undefined;
      while (Date.now() - started <= timeoutMs) {
        seen = (await handle.devices()).get(serial);
        if (seen === state) return Date.now() - started;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(
        `${serial} is ${seen ?? 'not listed'}, not ${state ?? 'gone'}, after ${timeoutMs} ms`,
      );
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await reaped;
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const grace = setTimeout(() => child.kill('SIGKILL'), 2000);
          await reaped;
          clearTimeout(grace);
        }
        live.delete(handle);
        await rm(home, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  live.add(handle);
  try {
    await waitUntilAnswering(port, child, () => output);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}
