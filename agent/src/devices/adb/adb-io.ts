import type { Duplex } from 'node:stream';
import { withTimeout } from '@farm-agent/bot-config/lib';
import type { DeviceIO } from '../device-io.js';
import { createAdbClient, listDevicesLong, openShell, requestReboot } from './adbkit.js';
import { parseDeviceList } from './devices-long.js';
import type { AdbClient } from './adbkit.js';

export class AdbTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`${what}: no answer within ${timeoutMs} ms`);
    this.name = 'AdbTimeoutError';
  }
}

/** Bounds one adb request; a stream opened too late is still closed. */
function bounded<T>(
  what: string,
  timeoutMs: number,
  work: Promise<T>,
  discard?: (late: T) => void,
): Promise<T> {
  return withTimeout(work, timeoutMs, {
    error: () => new AdbTimeoutError(what, timeoutMs),
    ...(discard ? { discard } : {}),
  }).catch((error: unknown) => {
    throw error instanceof Error ? error : new Error(String(error));
  });
}

/** Reads a stream to its end; after `timeoutMs` destroys it, which closes the adb stream. */
function readToEnd(stream: Duplex, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(() => {
      settle(new AdbTimeoutError(what, timeoutMs));
      stream.destroy();
    }, timeoutMs);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => settle(undefined));
    stream.on('error', (error: Error) => settle(error));
    stream.on('close', () => settle(new Error(`${what}: stream closed before its end`)));
  });
}

export interface AdbDeviceIOOptions {
  /** The adb server's port (adbkit ignores ADB_PORT, so it is always explicit). */
  port: number;
  host?: string;
}

/** DeviceIO over adbkit: every call bounded by its own timeout. */
export class AdbDeviceIO implements DeviceIO {
  constructor(private readonly options: AdbDeviceIOOptions) {}

  /**
   * A client per call whose socket idle timeout is the call's timeout: while adbkit
   * still owns the socket (connecting, `host:transport`, waiting for OKAY) only adbkit
   * can end it, and this makes it do so when the adb server stops answering.
   */
  private client(timeoutMs: number): AdbClient {
    return createAdbClient({
      port: this.options.port,
      host: this.options.host,
      socketTimeoutMs: timeoutMs,
    });
  }

  async shell(serial: string, command: string, timeoutMs: number): Promise<string> {
    const what = `${serial}: shell ${JSON.stringify(command)}`;
    const started = Date.now();
    const stream = await bounded(
      what,
      timeoutMs,
      openShell(this.client(timeoutMs), serial, command),
      (late) => late.destroy(),
    );
    return await readToEnd(stream, what, Math.max(1, timeoutMs - (Date.now() - started)));
  }

  async devicePath(serial: string, timeoutMs: number): Promise<string | undefined> {
    // `get-devpath` refuses a device that is offline or unauthorized, exactly the
    // phones whose slot must show that state; the long list names their port anyway.
    const listed = parseDeviceList(
      await bounded(`${serial}: devices-l`, timeoutMs, listDevicesLong(this.client(timeoutMs))),
    );
    if (!listed.has(serial)) throw new Error(`device '${serial}' not found`);
    // A TCP device has no USB port (undefined): its serial is its identity.
    return listed.get(serial);
  }

  async reboot(serial: string, timeoutMs: number): Promise<void> {
    await bounded(`${serial}: reboot`, timeoutMs, requestReboot(this.client(timeoutMs), serial));
  }
}
