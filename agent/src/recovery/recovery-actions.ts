import { withTimeout } from '@farm-agent/bot-config/lib';
import type { DeviceIO } from '../devices/device-io.js';
import { createAdbClient, reconnectOffline } from '../devices/adb/adbkit.js';
import { reconnectTcp } from '../devices/adb/tcp-devices.js';

/** What the ladder does to a phone through adb; the power cycle goes through the power owner. */
export interface RecoveryActions {
  /**
   * `adb reconnect offline`; a TCP phone (which adb then drops) is connected
   * again. Resolves once adb took the requests, not when the phone is back.
   */
  reconnect(serial: string | undefined, tcp: boolean, timeoutMs: number): Promise<void>;
  /** `adb reboot`: resolves once the phone took the request. */
  reboot(serial: string, timeoutMs: number): Promise<void>;
}

/** The ladder's adb actions against the agent's adb server. */
export function adbRecoveryActions(
  server: { port: number; host?: string },
  io: DeviceIO,
): RecoveryActions {
  return {
    async reconnect(serial, tcp, timeoutMs) {
      const adb = createAdbClient({ ...server, socketTimeoutMs: timeoutMs });
      await withTimeout(reconnectOffline(adb), timeoutMs);
      if (!tcp || serial === undefined) return;
      const [result] = await reconnectTcp(server, [serial], timeoutMs);
      if (result?.error !== undefined) throw new Error(`adb connect ${serial}: ${result.error}`);
    },
    reboot: (serial, timeoutMs) => io.reboot(serial, timeoutMs),
  };
}
