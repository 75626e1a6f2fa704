import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** What the metadata server does with one request. `drop` resets the connection. */
export type TokenReply = { status?: number; body: string | object } | 'drop';

export interface TokenServer {
  url: string;
  /** Headers of every request received, in order. */
  requests: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * A real HTTP server standing in for the GCE metadata token endpoint. `reply` gets the request
 * and its 0-based index; a promise that never settles stalls the request until close().
 */
export async function startTokenServer(
  reply: (index: number, req: IncomingMessage) => TokenReply | Promise<TokenReply>,
): Promise<TokenServer> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const index = requests.push(req.headers) - 1;
    void Promise.resolve(reply(index, req)).then((answer) => {
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/computeMetadata/v1/instance/service-accounts/default/token`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A pino logger whose JSON lines are kept in memory, to assert what was (not) logged. */
export function captureLogger(): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => chunks.join('') };
}
