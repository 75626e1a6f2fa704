/**
 * One `adb shell` session through the adb server's smart-socket protocol (adb's SERVICES.TXT)
 * on node:net: a connection, `host:transport:<serial>`, `shell:<command>`, each request sent
 * after its length in 4 hex digits and answered `OKAY`, or `FAIL` and a length-prefixed
 * reason; then the command's output (stdout and stderr merged) until the server closes.
 *
 * This is the refresh's hot path: three sessions per phone per refresh. Through adbkit each
 * one cost a client, a Bluebird chain and a socket idle timer besides the connection, which
 * with the garbage it left was most of what a refresh cost. The reconcile's `host:devices`
 * (every 5 s) takes the same path; the other requests (few, and the long-lived tracker) stay
 * on adbkit (adbkit.ts).
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

/** A request's service without its arguments: `transport`, `shell`, `devices`. */
function serviceName(request: string): string {
  return request.replace(/^host:/, '').split(':', 1)[0] ?? request;
}

/**
 * Sends `requests` one after the other, each once the previous one was answered `OKAY`, and
 * resolves with everything the server sends after the last `OKAY`, until it closes the
 * connection. Everything — connecting, the requests and the output — shares one deadline: at
 * `timeoutMs` the connection is destroyed and the session rejects with `timeoutError()`.
 * `what` names the session in errors of its own.
 */
function runSession(
  target: ShellTarget,
  requests: readonly string[],
  timeoutMs: number,
  what: string,
  timeoutError: () => Error,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: target.host, port: target.port });
    const output: Buffer[] = [];
    let reply: Buffer = Buffer.alloc(0);
    /** Requests answered so far; at requests.length the rest is output. */
    let answered = 0;
    const inOutput = (): boolean => answered === requests.length;
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(output));
    };
    const timer = setTimeout(() => finish(timeoutError()), timeoutMs);
    /** Acts on the replies received so far. */
    const takeReplies = (): void => {
      while (!inOutput() && reply.length >= 4) {
        const status = reply.toString('latin1', 0, 4);
        if (status === 'FAIL') {
          if (reply.length < 8) return;
          const length = Number.parseInt(reply.toString('latin1', 4, 8), 16);
          if (reply.length < 8 + length) return;
          finish(new AdbFailure(reply.toString('utf8', 8, 8 + length)));
          return;
        }
        if (status !== 'OKAY') {
          const service = serviceName(requests[answered] ?? '');
          finish(new Error(`adb server answered ${JSON.stringify(status)} to ${service}`));
          return;
        }
        reply = reply.subarray(4);
        answered += 1;
        const next = requests[answered];
        if (next !== undefined) socket.write(encodeRequest(next));
        else if (reply.length > 0) output.push(reply);
      }
    };
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(encodeRequest(requests[0] ?? '')));
    socket.on('data', (data: Buffer) => {
      if (inOutput()) {
        output.push(data);
        return;
      }
      reply = reply.length === 0 ? data : Buffer.concat([reply, data]);
      takeReplies();
    });
    // The command ended, or the host service answered: the server closes the stream.
    socket.on('end', () =>
      finish(inOutput() ? undefined : new Error('adb server closed the connection')),
    );
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`${what}: stream closed before its end`)));
  });
}

/**
 * Runs `command` on the device and resolves with its whole output (stdout and stderr merged),
 * under one deadline (see runSession).
 */
export async function runShell(
  target: ShellTarget,
  serial: string,
  command: string,
  timeoutMs: number,
  what: string,
  timeoutError: () => Error,
): Promise<string> {
  const requests = [`host:transport:${serial}`, `shell:${command}`];
  return (await runSession(target, requests, timeoutMs, what, timeoutError)).toString('utf8');
}

/**
 * `host:devices`: the server's list, `serial<TAB>state` a line, as adbkit parses it (a line
 * without a tab gives an empty state, which no caller treats as present). One connection
 * under one deadline, like a shell session: this runs every reconcile (5 s), where an adbkit
 * client and its Bluebird chain cost several times the request itself.
 */
export async function listHostDevices(
  target: ShellTarget,
  timeoutMs: number,
  timeoutError: () => Error,
): Promise<{ serial: string; type: string }[]> {
  const answer = await runSession(
    target,
    ['host:devices'],
    timeoutMs,
    'host:devices',
    timeoutError,
  );
  if (answer.length < 4) throw new Error('host:devices: the answer ended before its length');
  const length = Number.parseInt(answer.toString('latin1', 0, 4), 16);
  if (Number.isNaN(length) || answer.length < 4 + length)
    throw new Error('host:devices: the answer ended early');
  return answer
    .toString('ascii', 4, 4 + length)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [serial = '', type = ''] = line.split('\t');
      return { serial, type };
    });
}
