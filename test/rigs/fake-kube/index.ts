/**
 * A strict fake kube-apiserver over HTTP or HTTPS for farm-agent's cluster reporting: it rejects
 * what a real API server rejects (see routes.ts, patch.ts, validation.ts, lists.ts, reviews.ts),
 * refuses the watches neither farm-agent nor its gate makes, records every request, and can fail, stall or go away on demand.
 */
import { randomBytes } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestPki } from './certs.js';
import type { Grant, UserInfo } from './reviews.js';
import {
  CONTROLLER_REVISIONS,
  DAEMONSETS,
  EVENTS,
  LEASES,
  NODES,
  PODS,
  type ReviewWorld,
  Routes,
} from './routes.js';
import { ApiError, statusForCode, unauthorized } from './status.js';
import { ObjectStore } from './store.js';
import type { KubeObject } from './validation.js';

export { createTestPki, type TestPki } from './certs.js';
export type { KubeObject } from './validation.js';
export type { Grant, UserInfo } from './reviews.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  /** Parsed JSON when the body is JSON, else the raw text ('' for none). */
  body: unknown;
  /** Date.now() when the request arrived. */
  at: number;
  /** The HTTP status answered; undefined while a stalled request hangs. */
  status?: number;
}

/** An HTTP status answered as a Status; 'reset' drops the connection; 'stall' never answers. */
export type Fault = number | 'reset' | 'stall';

export type ResourceName =
  'nodes' | 'leases' | 'events' | 'pods' | 'daemonsets' | 'controllerrevisions';

export interface FakeKube {
  /** https://127.0.0.1:port or http://127.0.0.1:port, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** PEM of the CA that signed the server certificate (tls only). */
  readonly ca: string | undefined;
  readonly token: string;
  readonly requests: RecordedRequest[];
  /** Stores an object as the server would (new resourceVersion); returns it. */
  put(resource: ResourceName, object: KubeObject, namespace?: string): KubeObject;
  get(resource: ResourceName, name: string, namespace?: string): KubeObject | undefined;
  /** Every stored object of a resource (in one namespace if given), in key order. */
  list(resource: ResourceName, namespace?: string): KubeObject[];
  /** TokenReview answers this token with this user. */
  identify(token: string, user: UserInfo): void;
  /** SubjectAccessReview allows this. */
  grant(grant: Grant): void;
  /** TCP connections accepted so far: with TLS, each one is a full handshake. */
  readonly connections: number;
  /** The resourceVersion of the last write. */
  readonly resourceVersion: number;
  /** The next n requests (after being recorded) meet this fault instead of the API. */
  failNext(n: number, fault: Fault): void;
  /** true: close the listener and every connection (connection refused); false: listen again. */
  setDown(down: boolean): Promise<void>;
  close(): Promise<void>;
}

const RESOURCES = {
  nodes: NODES,
  leases: LEASES,
  events: EVENTS,
  pods: PODS,
  daemonsets: DAEMONSETS,
  controllerrevisions: CONTROLLER_REVISIONS,
} as const;

export async function startFakeKube(
  options: { tls?: boolean; token?: string } = {},
): Promise<FakeKube> {
  const token = options.token ?? randomBytes(16).toString('hex');
  const pki = options.tls === true ? createTestPki() : undefined;
  const store = new ObjectStore();
  const reviews: ReviewWorld = { identities: new Map(), grants: [] };
  const routes = new Routes(store, reviews);
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers['content-type'],
        body: parseOrRaw(text),
        at: Date.now(),
      };
      requests.push(recorded);
      const answer = (
        status: number,
        body: unknown,
        headers: Record<string, string> = {},
      ): void => {
        recorded.status = status;
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const fault = faults.shift();
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault === 'stall') return;
      try {
        if (fault !== undefined) throw statusForCode(fault);
        if (req.headers.authorization !== `Bearer ${token}`) throw unauthorized();
        const result = routes.handle({
          method: recorded.method,
          path: url.pathname,
          query: url.searchParams,
          contentType: recorded.contentType,
          body: text,
        });
        answer(result.status, result.body);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        // Clients back off on 429 for as long as Retry-After says, as client-go does.
        answer(e.status.code, e.status, e.status.code === 429 ? { 'Retry-After': '1' } : {});
      }
    });
  };

  const server =
    pki === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ cert: pki.cert, key: pki.key }, handler);
  // kube-apiserver keeps an idle connection 90 s (IdleTimeout in apiserver's
  // secure_serving.go); Node's default of 5 s would close it between two Lease renewals
  // (10 s), and every renewal would pay a new connection a real cluster does not ask for.
  server.keepAliveTimeout = 90_000;
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      // Stalled requests and kept-alive sockets hold connections; close() alone would wait.
      server.closeAllConnections();
    });
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await listen(0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `${pki === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    ca: pki?.ca,
    token,
    requests,
    put: (resource, object, namespace = '') =>
      store.write(RESOURCES[resource].resource, namespace, object),
    get: (resource, name, namespace = '') =>
      store.get(RESOURCES[resource].resource, namespace, name),
    list: (resource, namespace) =>
      store
        .list(RESOURCES[resource].resource, namespace)
        .sort((a, b) => (a.key < b.key ? -1 : 1))
        .map((o) => o.object),
    identify: (t, user) => reviews.identities.set(t, user),
    grant: (g) => reviews.grants.push(g),
    get connections() {
      return connections;
    },
    get resourceVersion() {
      return store.resourceVersion;
    },
    failNext(n, fault) {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    setDown: (down) => (down ? stop() : listen(port)),
    close: stop,
  };
}

function parseOrRaw(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
