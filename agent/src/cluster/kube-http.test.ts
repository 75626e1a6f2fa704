import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type FakeKube, startFakeKube } from '../../../test/rigs/fake-kube/index.js';
import { KubeApiError } from './kube-errors.js';
import { KubeHttp } from './kube-http.js';
import { TOKEN_FILE_REREAD_MS } from './kube-token.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-http-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<KubeApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(KubeApiError);
  return e as KubeApiError;
}

const GET_NODE = { method: 'GET', path: '/api/v1/nodes/pi-1' } as const;

describe('the token file, re-read as client-go does', () => {
  let kube: FakeKube;
  let http: KubeHttp | undefined;
  beforeAll(async () => {
    kube = await startFakeKube();
    kube.put('nodes', { metadata: { name: 'pi-1' } });
  });
  afterAll(() => kube.close());
  afterEach(() => http?.close());

  it('a rotated token is sent once the last read is 50 s old, or at once after a 401', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${kube.token}\n`);
    let now = 1_000_000;
    http = new KubeHttp(
      { server: kube.url, rejectUnauthorized: true, token: { tokenFile } },
      { timeoutMs: 2000, clock: { now: () => now } },
    );
    await http.request(GET_NODE);
    // The kubelet rotates the file: the token read a moment ago is still the one sent.
    writeFileSync(tokenFile, 'rotated-but-unknown');
    now += TOKEN_FILE_REREAD_MS - 1;
    await http.request(GET_NODE);
    now += 1;
    expect(await failure(http.request(GET_NODE))).toMatchObject({ status: 401 });
    // The server knows the new token now: after the 401 the file is read again at once.
    writeFileSync(tokenFile, kube.token);
    await http.request(GET_NODE);
    // Mid-rotation the file may be missing: the last token stays in use.
    unlinkSync(tokenFile);
    now += TOKEN_FILE_REREAD_MS;
    await http.request(GET_NODE);
  });

  it('a token file that was never readable fails the request, not the process', async () => {
    http = new KubeHttp({
      server: kube.url,
      rejectUnauthorized: true,
      token: { tokenFile: join(dir, 'never') },
    });
    expect(await failure(http.request(GET_NODE))).toMatchObject({
      status: undefined,
      reason: 'TokenUnreadable',
      retryable: true,
    });
  });
});

/** An HTTP(S) server answering every request with `handler`. */
async function serve(server: Server, handler: RequestListener): Promise<string> {
  server.on('request', handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return String((server.address() as AddressInfo).port);
}

describe('answers a client library must survive', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('a body that stops half-way is a Timeout; a 200 that is not JSON is an InvalidResponse', async () => {
    let calls = 0;
    server = createServer();
    const port = await serve(server, (_req, res) => {
      calls += 1;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (calls === 1) res.write('{"metadata":');
      else res.end(calls === 2 ? '<html>proxy error</html>' : '{"ok":true}');
    });
    const http = new KubeHttp(
      { server: `http://127.0.0.1:${port}`, rejectUnauthorized: true },
      { timeoutMs: 300 },
    );
    expect(await failure(http.request(GET_NODE))).toMatchObject({
      reason: 'Timeout',
      retryable: true,
    });
    expect(await failure(http.request(GET_NODE))).toMatchObject({
      status: 200,
      reason: 'InvalidResponse',
      retryable: false,
    });
    expect(await http.request(GET_NODE)).toEqual({ ok: true });
    http.close();
  });

  it('a server URL with a path (an API proxy) keeps it in front of every request', async () => {
    server = createServer();
    const port = await serve(server, (req, res) => res.end(JSON.stringify({ url: req.url })));
    const http = new KubeHttp({
      server: `http://127.0.0.1:${port}/k8s/clusters/c-1`,
      rejectUnauthorized: true,
    });
    expect(await http.request(GET_NODE)).toEqual({ url: '/k8s/clusters/c-1/api/v1/nodes/pi-1' });
    http.close();
  });

  it('a client certificate from the kubeconfig is presented over verified TLS', async () => {
    const pki = createTestPki();
    server = createHttpsServer({
      cert: pki.cert,
      key: pki.key,
      ca: pki.ca,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const port = await serve(server, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(
        JSON.stringify({ subject: peer.subject.CN, auth: req.headers.authorization ?? null }),
      );
    });
    const base = { server: `https://127.0.0.1:${port}`, ca: Buffer.from(pki.ca) };
    const mtls = new KubeHttp({
      ...base,
      rejectUnauthorized: true,
      clientCert: { cert: Buffer.from(pki.client.cert), key: Buffer.from(pki.client.key) },
    });
    expect(await mtls.request(GET_NODE)).toEqual({ subject: 'farm-agent', auth: null });
    mtls.close();
    const without = new KubeHttp({ ...base, rejectUnauthorized: true });
    expect((await failure(without.request(GET_NODE))).status).toBeUndefined();
    without.close();
  });
});
