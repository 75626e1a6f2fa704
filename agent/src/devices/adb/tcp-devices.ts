/**
 * A restarted adb server re-finds USB devices by itself but forgets every TCP device
 * (`adb connect host:port`). Production phones are on USB; TCP serials (network phones,
 * emulators, the fake phones of the tests) must be connected again by whoever knows
 * them, typically from AdbServerProcess's onReady.
 */
import { errorMessage } from '@farm-agent/bot-config/lib';
import { connectTcp, createAdbClient } from './adbkit.js';

export interface ReconnectResult {
  serial: string;
  /** adb's reason when the connect failed or timed out. */
  error?: string;
}

/**
 * `host:connect` for each serial, in parallel, each bounded by `timeoutMs` (a phone that
 * never finishes its handshake holds `adb connect` for 10 s).
 */
export async function reconnectTcp(
  server: { port: number; host?: string },
  serials: readonly string[],
  timeoutMs: number,
): Promise<ReconnectResult[]> {
  const adb = createAdbClient({ ...server, socketTimeoutMs: timeoutMs });
  return await Promise.all(
    serials.map(async (serial) => {
      try {
        await connectTcp(adb, serial);
        return { serial };
      } catch (error) {
        return { serial, error: errorMessage(error) };
      }
    }),
  );
}
