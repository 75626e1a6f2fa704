import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubeApi } from '../../agent/src/cluster/kube-client.js';
import { loadKubeConfig } from '../../agent/src/cluster/kube-config.js';
import { KubeApiError } from '../../agent/src/cluster/kube-errors.js';
import { MicroTime } from '../../agent/src/cluster/micro-time.js';
import { createTestPki, type FakeKube, startFakeKube } from '../rigs/fake-kube/index.js';

/**
 * The in-cluster path for real: service-account files under a prefix, KUBERNETES_SERVICE_HOST
 * and _PORT in the environment, and an HTTPS fake whose certificate the client verifies against
 * the ca.crt it was given.
 */

let kube: FakeKube;
let root: string;

/** Writes token, ca.crt and namespace as the kubelet projects them (no trailing newlines). */
function serviceAccount(name: string, files: { token: string; ca: string }): string {
  const prefix = join(root, name);
  const dir = join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'token'), files.token);
  writeFileSync(join(dir, 'ca.crt'), files.ca);
  writeFileSync(join(dir, 'namespace'), 'farm');
  return prefix;
}

function inClusterApi(prefix: string): KubeApi {
  const config = loadKubeConfig({ inClusterPrefix: prefix });
  if (config.connection === undefined) throw new Error(config.reason);
  expect(config).toMatchObject({
    source: 'in-cluster',
    namespace: 'farm',
    server: `https://127.0.0.1:${String(kube.port)}`,
  });
  return new KubeApi(config.connection, { timeoutMs: 2000 });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kube-in-cluster-'));
  kube = await startFakeKube({ tls: true });
  kube.put('nodes', { metadata: { name: 'pi-1' } });
  vi.stubEnv('KUBERNETES_SERVICE_HOST', '127.0.0.1');
  vi.stubEnv('KUBERNETES_SERVICE_PORT', String(kube.port));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await kube.close();
  rmSync(root, { recursive: true, force: true });
});

describe('in-cluster configuration against a self-signed HTTPS API server', () => {
  let api: KubeApi | undefined;
  afterEach(() => {
    api?.close();
    api = undefined;
  });

  it('authenticates with the service-account token over verified TLS', async () => {
    const ca = kube.ca ?? '';
    api = inClusterApi(serviceAccount('good', { token: kube.token, ca }));
    const lease = await api.createLease('farm', {
      metadata: { name: 'pi-1' },
      spec: {
        holderIdentity: 'farm-agent-x',
        leaseDurationSeconds: 40,
        renewTime: new MicroTime(),
      },
    });
    expect(lease.metadata?.namespace).toBe('farm');
    const node = await api.patchNode('pi-1', {
      metadata: { labels: { 'farm.example.com/phones': '0' } },
    });
    expect(node.metadata?.labels).toEqual({ 'farm.example.com/phones': '0' });
    await api.createEvent('default', {
      metadata: { name: 'pi-1.started' },
      eventTime: new MicroTime(),
      reportingController: 'farm.example.com/farm-agent',
      reportingInstance: 'farm-agent-pi-1',
      action: 'Start',
      reason: 'Started',
      type: 'Normal',
      regarding: { apiVersion: 'v1', kind: 'Node', name: 'pi-1' },
    });
    expect(kube.requests.every((r) => r.status !== 401)).toBe(true);
  });

  it('fails closed with a CA that did not sign the server certificate: TLSError, not retryable', async () => {
    const requestsBefore = kube.requests.length;
    api = inClusterApi(serviceAccount('wrong-ca', { token: kube.token, ca: createTestPki().ca }));
    const err = await api.getNode('pi-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: undefined, reason: 'TLSError', retryable: false });
    // Nothing got through to the server.
    expect(kube.requests.length).toBe(requestsBefore);
  });

  it('a token the server does not know: 401 Unauthorized', async () => {
    api = inClusterApi(serviceAccount('wrong-token', { token: 'stale', ca: kube.ca ?? '' }));
    await expect(api.getNode('pi-1')).rejects.toMatchObject({ status: 401, retryable: false });
  });

  it('500 requests: one TLS connection, kept alive, and at most two file descriptors', async () => {
    // (@kubernetes/client-node 1.4.x, which the agent used to run on, opened one per request.)
    api = inClusterApi(serviceAccount('fds', { token: kube.token, ca: kube.ca ?? '' }));
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const fds = openFds();
    const connections = kube.connections;
    let peak = fds;
    for (let i = 0; i < 500; i++) {
      await api.getNode('pi-1');
      peak = Math.max(peak, openFds());
    }
    expect(kube.connections - connections).toBe(1);
    expect(peak - fds).toBeLessThanOrEqual(2);
  });
});
