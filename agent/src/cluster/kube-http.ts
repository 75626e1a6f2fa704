/**
 * The Kubernetes API over node:http(s): JSON in and out, one keep-alive agent for every request
 * (a Lease renewal on a Raspberry Pi should not pay a TCP and TLS handshake each time), a bearer
 * token that follows its file, a timeout per request covering connect, send and the whole
 * answer, and every failure a KubeApiError (kube-errors.ts), never an unhandled rejection.
 */
import http from 'node:http';
import https from 'node:https';
import { systemClock, type Clock } from '@farm-agent/bot-config/lib';
import type { KubeConnection } from './kube-config.js';
import { errorFromStatus, KubeApiError, normaliseError } from './kube-errors.js';
import { fixedToken, noToken, TokenFile, type BearerToken } from './kube-token.js';

export interface KubeHttpOptions {
  /** Per request: connect, send, and read the whole answer. Default 10 s. */
  timeoutMs?: number;
  /** When a token file was last read (tests drive a manual one). */
  clock?: Pick<Clock, 'now'>;
}

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, from api-paths.ts. */
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Default application/json; the patch types name theirs. */
  contentType?: string;
}

export class KubeHttp {
  private readonly agent: http.Agent;
  private readonly token: BearerToken;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(connection: KubeConnection, options: KubeHttpOptions = {}) {
    this.base = new URL(connection.server);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    const { token } = connection;
    this.token =
      token === undefined
        ? noToken
        : 'tokenFile' in token
          ? new TokenFile(token.tokenFile, this.clock)
          : fixedToken(token.token);
    const common = { keepAlive: true, maxSockets: 4, maxFreeSockets: 2 };
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({
            ...common,
            ...(connection.ca === undefined ? {} : { ca: connection.ca }),
            ...connection.clientCert,
            ...(connection.servername === undefined ? {} : { servername: connection.servername }),
            rejectUnauthorized: connection.rejectUnauthorized,
          })
        : new http.Agent(common);
  }

  /** The answer's JSON (undefined for an empty body); any failure as a KubeApiError. */
  async request<T>(req: KubeRequest): Promise<T> {
    try {
      return (await this.send(req)) as T;
    } catch (e) {
      throw normaliseError(e);
    }
  }

  private send(req: KubeRequest): Promise<unknown> {
    const token = this.token.current();
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: http.OutgoingHttpHeaders = {
      Accept: 'application/json',
      'User-Agent': 'farm-agent',
      ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
      ...(body === undefined
        ? {}
        : { 'Content-Type': req.contentType ?? 'application/json', 'Content-Length': body.length }),
    };
    const sentAt = this.clock.now();
    const transport = this.base.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const request = transport.request(
        // Appended, not resolved: a server URL may carry a path (an API proxy's prefix).
        new URL(`${this.base.href.replace(/\/$/, '')}${req.path}`),
        { method: req.method, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => settle(() => reject(e)));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            if (status < 200 || status > 299) {
              if (status === 401) this.token.rejected(sentAt);
              const retryAfter = res.headers['retry-after'];
              settle(() => reject(errorFromStatus(status, text, retryAfter)));
              return;
            }
            settle(() => {
              try {
                resolve(text === '' ? undefined : (JSON.parse(text) as unknown));
              } catch (e) {
                reject(
                  new KubeApiError(
                    status,
                    'InvalidResponse',
                    false,
                    `not JSON: ${(e as Error).message}`,
                  ),
                );
              }
            });
          });
        },
      );
      const timer = setTimeout(() => {
        const message = `no answer within ${this.timeoutMs} ms: ${req.method} ${req.path}`;
        settle(() => reject(new KubeApiError(undefined, 'Timeout', true, message)));
        request.destroy();
      }, this.timeoutMs);
      request.on('error', (e) => settle(() => reject(e)));
      request.end(body);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
