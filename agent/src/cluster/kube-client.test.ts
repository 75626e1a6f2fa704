import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Lease } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeKube, startFakeKube } from '../../../test/rigs/fake-kube/index.js';
import { writeKubeconfig } from '../../../test/rigs/fake-kube/kubeconfig.js';
import { KubeApi } from './kube-client.js';
import { loadKubeConfig, type KubeConnection } from './kube-config.js';
import { KubeApiError } from './kube-errors.js';
import { MicroTime } from './micro-time.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-client-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig file for the fake, loaded through loadKubeConfig as a local run would. */
function connectionFor(kube: FakeKube, token = kube.token): KubeConnection {
  const path = writeKubeconfig(kube, dir, token);
  const config = loadKubeConfig({ kubeconfigPath: path, env: {} });
  if (config.connection === undefined) throw new Error(config.reason);
  expect(config).toMatchObject({ source: 'kubeconfig', namespace: 'farm', server: kube.url });
  return config.connection;
}

function lease(renewTime: Date, resourceVersion?: string): V1Lease {
  return {
    metadata: { name: 'pi-1', ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    spec: {
      holderIdentity: 'farm-agent-abc',
      leaseDurationSeconds: 40,
      acquireTime: new MicroTime(),
      renewTime,
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KubeApiError);
    return e as KubeApiError;
  }
  throw new Error('expected a rejection');
}

describe('KubeApi against the fake API server over HTTP', () => {
  let kube: FakeKube;
  let api: KubeApi;

  beforeEach(async () => {
    kube = await startFakeKube();
    kube.put('nodes', { metadata: { name: 'pi-1' } });
    api = new KubeApi(connectionFor(kube), { timeoutMs: 1000 });
  });
  afterEach(async () => {
    api.close();
    await kube.close();
  });

  it('creates, reads and replaces a Lease with MicroTime fields; a stale replace is a 409', async () => {
    const created = await api.createLease('farm', lease(new MicroTime()));
    const post = kube.requests.at(-1);
    expect(post).toMatchObject({
      method: 'POST',
      path: '/apis/coordination.k8s.io/v1/namespaces/farm/leases',
      contentType: 'application/json',
    });
    // Millisecond precision padded with three zeros, as client-node 1.4.x sent it.
    expect((post?.body as { spec: { renewTime: string } }).spec.renewTime).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000Z$/,
    );
    const read = await api.getLease('farm', 'pi-1');
    expect(read.spec?.holderIdentity).toBe('farm-agent-abc');
    // The answer's JSON as it is: a MicroTime stays the wire string, whatever the typings say.
    expect(typeof read.spec?.renewTime).toBe('string');

    const renewed = await api.replaceLease(
      'farm',
      lease(new MicroTime(), read.metadata?.resourceVersion),
    );
    expect(Number(renewed.metadata?.resourceVersion)).toBe(
      Number(created.metadata?.resourceVersion) + 1,
    );
    const stale = await rejection(
      api.replaceLease('farm', lease(new MicroTime(), created.metadata?.resourceVersion)),
    );
    expect(stale).toMatchObject({ status: 409, reason: 'Conflict', retryable: true });
    const again = await rejection(api.createLease('farm', lease(new MicroTime())));
    expect(again).toMatchObject({ status: 409, reason: 'AlreadyExists', retryable: false });
  });

  it('a plain Date in renewTime is refused as the real server does (400, not retryable)', async () => {
    const err = await rejection(api.createLease('farm', lease(new Date())));
    expect(err).toMatchObject({ status: 400, reason: 'BadRequest', retryable: false });
    expect(err.message).toContain('cannot parse');
  });

  it('merge-patches Node labels and strategic-merge-patches its status, each with its type', async () => {
    const node = await api.patchNode('pi-1', {
      metadata: { labels: { 'farm.example.com/phones': '2' }, annotations: { a: 'b' } },
    });
    expect(node.metadata?.labels).toEqual({ 'farm.example.com/phones': '2' });
    expect(kube.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
    });
    await api.patchNode('pi-1', { metadata: { annotations: { a: null } } });
    expect(kube.get('nodes', 'pi-1')?.metadata?.annotations).toEqual({});

    const condition = { type: 'FarmPhonesReady', status: 'True', reason: 'PhonesReady' };
    await api.patchNodeStatus('pi-1', { status: { conditions: [condition] } });
    expect(kube.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: '/api/v1/nodes/pi-1/status',
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(kube.get('nodes', 'pi-1')?.status).toMatchObject({ conditions: [condition] });
  });

  it('creates an events.k8s.io Event regarding the Node, in default only', async () => {
    const event = {
      metadata: { name: 'pi-1.slept.1' },
      eventTime: new MicroTime(),
      reportingController: 'farm.example.com/farm-agent',
      reportingInstance: 'farm-agent-pi-1',
      action: 'Sleep',
      reason: 'Slept',
      type: 'Normal',
      note: 'slot 1 slept after 4 idle checks',
      regarding: { apiVersion: 'v1', kind: 'Node', name: 'pi-1' },
    };
    const created = await api.createEvent('default', event);
    expect(created.metadata?.namespace).toBe('default');
    expect((kube.requests.at(-1)?.body as { eventTime: string }).eventTime).toMatch(/\.\d{6}Z$/);
    const wrongNs = await rejection(api.createEvent('farm', { ...event, metadata: { name: 'x' } }));
    expect(wrongNs).toMatchObject({ status: 422, reason: 'Invalid', retryable: false });
  });

  it('normalises failures: status codes, reset, stall, refused', async () => {
    expect(await rejection(api.getLease('farm', 'nope'))).toMatchObject({
      status: 404,
      reason: 'NotFound',
      retryable: false,
    });
    for (const [code, reason] of [
      [429, 'TooManyRequests'],
      [500, 'InternalError'],
      [503, 'ServiceUnavailable'],
    ] as const) {
      kube.failNext(1, code);
      expect(await rejection(api.getNode('pi-1'))).toMatchObject({
        status: code,
        reason,
        retryable: true,
      });
    }
    kube.failNext(1, 429);
    expect((await rejection(api.getNode('pi-1'))).retryAfterSeconds).toBe(1);
    kube.failNext(1, 'reset');
    expect(await rejection(api.getNode('pi-1'))).toMatchObject({
      status: undefined,
      reason: 'ConnectionReset',
      retryable: true,
    });
    kube.failNext(1, 'stall');
    const started = Date.now();
    expect(await rejection(api.getNode('pi-1'))).toMatchObject({
      reason: 'Timeout',
      retryable: true,
    });
    expect(Date.now() - started).toBeLessThan(3000);
    await kube.setDown(true);
    expect(await rejection(api.getNode('pi-1'))).toMatchObject({
      reason: 'ConnectionRefused',
      retryable: true,
    });
    await kube.setDown(false);
    expect((await api.getNode('pi-1')).metadata?.name).toBe('pi-1');
  });

  it('a wrong token is a 401, not retryable', async () => {
    const other = await startFakeKube({ token: 'not-ours' });
    try {
      other.put('nodes', { metadata: { name: 'pi-1' } });
      const wrong = new KubeApi(connectionFor(other, 'ours'));
      expect(await rejection(wrong.getNode('pi-1'))).toMatchObject({
        status: 401,
        reason: 'Unauthorized',
        retryable: false,
      });
      wrong.close();
    } finally {
      await other.close();
    }
  });
});
