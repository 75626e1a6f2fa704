import { withTimeout } from '@farm-agent/bot-config/lib';
import type { DeviceIO } from '../device-io.js';
import { runShell } from './adb-shell.js';
import { createAdbClient, listDevicesLong, requestReboot } from './adbkit.js';
import { parseDeviceList } from './devices-long.js';
import type { AdbClient } from './adbkit.js';

export class AdbTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`${what}: no answer within ${timeoutMs} ms`);
    this.name = 'AdbTimeoutError';
  }
}

/** Bounds one adb request. */
function bounded<T>(what: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  return withTimeout(work, timeoutMs, { error: () => new AdbTimeoutError(what, timeoutMs) }).catch(
    (error: unknown) => {
      throw error instanceof Error ? error : new Error(String(error));
    },
  );
}

export interface AdbDeviceIOOptions {
  /** The adb server's port (adbkit ignores ADB_PORT, so it is always explicit). */
  port: number;
  host?: string;
}

/** DeviceIO over the adb server (adb-shell.ts, adbkit): every call bounded by its own timeout. */
export class AdbDeviceIO implements DeviceIO {
  constructor(private readonly options: AdbDeviceIOOptions) {}

  /**
   * An adbkit client per call whose socket idle timeout is the call's timeout: while adbkit
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

  shell(serial: string, command: string, timeoutMs: number): Promise<string> {
    const what = `${serial}: shell ${JSON.stringify(command)}`;
    const target = { port: this.options.port, host: this.options.host ?? '127.0.0.1' };
    return runShell(
      target,
      serial,
      command,
      timeoutMs,
      what,
      () => new AdbTimeoutError(what, timeoutMs),
    );
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
