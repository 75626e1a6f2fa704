/**
 * One `adb shell` session through the adb server's smart-socket protocol (adb's SERVICES.TXT)
 * on node:net: a connection, `host:transport:<serial>`, `shell:<command>`, each request sent
 * after its length in 4 hex digits and answered `OKAY`, or `FAIL` and a length-prefixed
 * reason; then the command's output (stdout and stderr merged) until the server closes.
 *
 * This is the refresh's hot path: three sessions per phone per refresh. Through adbkit each
 * one cost a client, a Bluebird chain and a socket idle timer besides the connection, which
 * with the garbage it left was most of what a refresh cost. The other requests (few, and the
 * long-lived tracker) stay on adbkit (adbkit.ts).
 */
import { createConnection } from 'node:net';

export interface ShellTarget {
  port: number;
  host: string;
}

/** `FAIL` and adb's reason, worded as adbkit words it (`Failure: 'device offline'`). */
export class AdbFailure extends Error {
  constructor(reason: string) {
    super(`Failure: '${reason}'`);
    this.name = 'AdbFailure';
  }
}

function encodeRequest(service: string): string {
  return `${Buffer.byteLength(service).toString(16).padStart(4, '0')}${service}`;
}

/**
 * Runs `command` and resolves with its whole output. Everything — connecting, both requests
 * and the output — shares one deadline: at `timeoutMs` the connection is destroyed (the adb
 * server then closes the stream on the phone) and the session rejects with `timeoutError()`.
 * `what` names the session in errors of its own.
 */
export function runShell(
  target: ShellTarget,
  serial: string,
  command: string,
  timeoutMs: number,
  what: string,
  timeoutError: () => Error,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: target.host, port: target.port });
    const output: Buffer[] = [];
    let reply: Buffer = Buffer.alloc(0);
    let phase: 'transport' | 'shell' | 'output' = 'transport';
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(output).toString('utf8'));
    };
    const timer = setTimeout(() => finish(timeoutError()), timeoutMs);
    /** Acts on the replies received so far. */
    const takeReplies = (): void => {
      while (phase !== 'output' && reply.length >= 4) {
        const status = reply.toString('latin1', 0, 4);
        if (status === 'FAIL') {
          if (reply.length < 8) return;
          const length = Number.parseInt(reply.toString('latin1', 4, 8), 16);
          if (reply.length < 8 + length) return;
          finish(new AdbFailure(reply.toString('utf8', 8, 8 + length)));
          return;
        }
        if (status !== 'OKAY') {
          finish(new Error(`adb server answered ${JSON.stringify(status)} to ${phase}`));
          return;
        }
        reply = reply.subarray(4);
        if (phase === 'transport') {
          phase = 'shell';
          socket.write(encodeRequest(`shell:${command}`));
        } else {
          phase = 'output';
          if (reply.length > 0) output.push(reply);
        }
      }
    };
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(encodeRequest(`host:transport:${serial}`)));
    socket.on('data', (data: Buffer) => {
      if (phase === 'output') {
        output.push(data);
        return;
      }
      reply = reply.length === 0 ? data : Buffer.concat([reply, data]);
      takeReplies();
    });
    // The command ended: the server closes the stream.
    socket.on('end', () =>
      finish(phase === 'output' ? undefined : new Error('adb server closed the connection')),
    );
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`${what}: stream closed before its end`)));
  });
}
