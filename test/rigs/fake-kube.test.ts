import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeKube, startFakeKube } from './fake-kube/index.js';

/**
 * The fake's strictness, one raw HTTP request per rule: each test sends what a real
 * kube-apiserver refuses and checks the fake refuses it the same way, next to the accepted form.
 */

let kube: FakeKube;

beforeEach(async () => {
  kube = await startFakeKube({ token: 'secret' });
  kube.put('nodes', { metadata: { name: 'pi-1', labels: { 'kubernetes.io/hostname': 'pi-1' } } });
});

afterEach(async () => {
  await kube.close();
});

interface Raw {
  status: number;
  body: Record<string, unknown>;
}

async function raw(
  method: string,
  path: string,
  options: { body?: unknown; contentType?: string; token?: string | null } = {},
): Promise<Raw> {
  const headers: Record<string, string> = {};
  if (options.token !== null) headers.Authorization = `Bearer ${options.token ?? 'secret'}`;
  if (options.contentType !== undefined) headers['Content-Type'] = options.contentType;
  const res = await fetch(`${kube.url}${path}`, {
    method,
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/farm/leases';
const EVENTS_DEFAULT = '/apis/events.k8s.io/v1/namespaces/default/events';
const MICRO = '2025-01-02T03:04:05.123456Z';

function lease(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'pi-1' },
    spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 40, renewTime: MICRO, ...extra },
  };
}

function event(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'pi-1.attached.1' },
    eventTime: MICRO,
    reportingController: 'farm.example.com/farm-agent',
    reportingInstance: 'farm-agent-pi-1',
    action: 'Attach',
    reason: 'DeviceAttached',
    type: 'Normal',
    note: 'phone 1 attached',
    regarding: { apiVersion: 'v1', kind: 'Node', name: 'pi-1' },
    ...extra,
  };
}

const merge = 'application/merge-patch+json';

describe('fake kube-apiserver strictness', () => {
  it('401 Unauthorized without the bearer token or with a wrong one', async () => {
    for (const token of [null, 'wrong']) {
      const r = await raw('GET', '/api/v1/nodes/pi-1', { token });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    }
    expect((await raw('GET', '/api/v1/nodes/pi-1')).status).toBe(200);
  });

  it('404 NotFound Status for an absent object on GET, PUT and PATCH', async () => {
    const get = await raw('GET', `${LEASES}/pi-9`);
    expect(get.status).toBe(404);
    expect(get.body).toMatchObject({
      reason: 'NotFound',
      message: 'leases.coordination.k8s.io "pi-9" not found',
      details: { name: 'pi-9', group: 'coordination.k8s.io', kind: 'leases' },
    });
    const put = await raw('PUT', `${LEASES}/pi-1`, {
      body: lease(),
      contentType: 'application/json',
    });
    expect(put.status).toBe(404);
    const patch = await raw('PATCH', '/api/v1/nodes/pi-9', { body: {}, contentType: merge });
    expect(patch.body).toMatchObject({ code: 404, message: 'nodes "pi-9" not found' });
    expect((await raw('GET', '/api/v1/namespaces/farm/pods/x')).status).toBe(404);
  });

  it('PATCH content type: 415 unless a patch type, and the body must have its shape (400)', async () => {
    const labels = { metadata: { labels: { 'farm/phones': '2' } } };
    const asJson = await raw('PATCH', '/api/v1/nodes/pi-1', {
      body: labels,
      contentType: 'application/json',
    });
    expect(asJson.status).toBe(415);
    expect(asJson.body).toMatchObject({ reason: 'UnsupportedMediaType' });
    // What 1.4.x sends for patchNode without setHeaderOptions: a JSON-patch type, an object body.
    const objectAsJsonPatch = await raw('PATCH', '/api/v1/nodes/pi-1', {
      body: labels,
      contentType: 'application/json-patch+json',
    });
    expect(objectAsJsonPatch.status).toBe(400);
    expect(objectAsJsonPatch.body).toMatchObject({
      reason: 'BadRequest',
      message: 'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    });
    const arrayAsMerge = await raw('PATCH', '/api/v1/nodes/pi-1', { body: [], contentType: merge });
    expect(arrayAsMerge.status).toBe(400);
    const applyWithoutManager = await raw('PATCH', '/api/v1/nodes/pi-1', {
      body: labels,
      contentType: 'application/apply-patch+yaml',
    });
    expect(applyWithoutManager.status).toBe(422);

    for (const [contentType, body] of [
      [merge, labels],
      ['application/strategic-merge-patch+json', labels],
      ['application/merge-patch+json; charset=utf-8', labels],
      [
        'application/json-patch+json',
        [{ op: 'add', path: '/metadata/labels/farm~1x', value: 'y' }],
      ],
    ] as const) {
      expect((await raw('PATCH', '/api/v1/nodes/pi-1', { body, contentType })).status).toBe(200);
    }
    expect(kube.get('nodes', 'pi-1')?.metadata?.labels).toEqual({
      'kubernetes.io/hostname': 'pi-1',
      'farm/phones': '2',
      'farm/x': 'y',
    });
    const applied = await raw('PATCH', '/api/v1/nodes/pi-1?fieldManager=farm-agent', {
      body: labels,
      contentType: 'application/apply-patch+yaml',
    });
    expect(applied.status).toBe(200);
  });

  it('merge patch: null deletes a label; a failing JSON-patch test op is 422', async () => {
    await raw('PATCH', '/api/v1/nodes/pi-1', {
      body: { metadata: { labels: { a: 'b' } } },
      contentType: merge,
    });
    await raw('PATCH', '/api/v1/nodes/pi-1', {
      body: { metadata: { labels: { a: null } } },
      contentType: merge,
    });
    expect(kube.get('nodes', 'pi-1')?.metadata?.labels).toEqual({
      'kubernetes.io/hostname': 'pi-1',
    });
    const test = await raw('PATCH', '/api/v1/nodes/pi-1', {
      body: [{ op: 'test', path: '/metadata/name', value: 'pi-2' }],
      contentType: 'application/json-patch+json',
    });
    expect(test.status).toBe(422);
  });

  it('MicroTime fields need exactly six fractional digits: 400 BadRequest otherwise', async () => {
    for (const bad of [
      '2025-01-02T03:04:05.123Z',
      '2025-01-02T03:04:05Z',
      '2025-01-02T03:04:05.123456789Z',
    ]) {
      const r = await raw('POST', LEASES, {
        body: lease({ renewTime: bad }),
        contentType: 'application/json',
      });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ reason: 'BadRequest' });
      expect(r.body.message).toBe(
        `Lease in version "v1" cannot be handled as a Lease: parsing time "${bad}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "${bad.slice(19)}" as ".000000"`,
      );
      const ev = await raw('POST', EVENTS_DEFAULT, {
        body: event({ eventTime: bad }),
        contentType: 'application/json',
      });
      expect(ev.status).toBe(400);
    }
    const acquire = await raw('POST', LEASES, {
      body: lease({ acquireTime: '2025-01-02T03:04:05.123Z' }),
      contentType: 'application/json',
    });
    expect(acquire.status).toBe(400);
    const ok = await raw('POST', LEASES, {
      body: lease({ acquireTime: MICRO }),
      contentType: 'application/json',
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      metadata: { name: 'pi-1', namespace: 'farm' },
      spec: { renewTime: MICRO },
    });
  });

  it('POST of an existing name: 409 AlreadyExists; with a resourceVersion: 500', async () => {
    expect(
      (await raw('POST', LEASES, { body: lease(), contentType: 'application/json' })).status,
    ).toBe(201);
    const again = await raw('POST', LEASES, { body: lease(), contentType: 'application/json' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      reason: 'AlreadyExists',
      message: 'leases.coordination.k8s.io "pi-1" already exists',
    });
    const withRv = lease();
    withRv.metadata = { name: 'pi-2', resourceVersion: '1' };
    expect(
      (await raw('POST', LEASES, { body: withRv, contentType: 'application/json' })).status,
    ).toBe(500);
  });

  it('PUT with a stale resourceVersion: 409 Conflict; every write increments it', async () => {
    const created = await raw('POST', LEASES, { body: lease(), contentType: 'application/json' });
    const rv1 = (created.body.metadata as { resourceVersion: string }).resourceVersion;
    const update = lease({ holderIdentity: 'pod-b' });
    update.metadata = { name: 'pi-1', resourceVersion: rv1 };
    const first = await raw('PUT', `${LEASES}/pi-1`, {
      body: update,
      contentType: 'application/json',
    });
    expect(first.status).toBe(200);
    const rv2 = (first.body.metadata as { resourceVersion: string }).resourceVersion;
    expect(Number(rv2)).toBe(Number(rv1) + 1);
    const stale = await raw('PUT', `${LEASES}/pi-1`, {
      body: lease({ holderIdentity: 'pod-c' }),
      contentType: 'application/json',
    });
    // Without a resourceVersion a Lease update is unconditional...
    expect(stale.status).toBe(200);
    // ...with an old one it is refused.
    const conflicted = await raw('PUT', `${LEASES}/pi-1`, {
      body: update,
      contentType: 'application/json',
    });
    expect(conflicted.status).toBe(409);
    expect(conflicted.body).toMatchObject({ reason: 'Conflict' });
    expect(String(conflicted.body.message)).toContain('the object has been modified');
    // A patch carrying metadata.resourceVersion makes it a precondition too.
    const patch = await raw('PATCH', `${LEASES}/pi-1`, {
      body: { metadata: { resourceVersion: rv1 } },
      contentType: merge,
    });
    expect(patch.status).toBe(409);
  });

  it('PUT: name and namespace in the body must match the URL; body must be application/json', async () => {
    await raw('POST', LEASES, { body: lease(), contentType: 'application/json' });
    const other = lease();
    other.metadata = { name: 'pi-2' };
    expect(
      (await raw('PUT', `${LEASES}/pi-1`, { body: other, contentType: 'application/json' })).status,
    ).toBe(400);
    const ns = lease();
    ns.metadata = { name: 'pi-1', namespace: 'elsewhere' };
    expect(
      (await raw('PUT', `${LEASES}/pi-1`, { body: ns, contentType: 'application/json' })).status,
    ).toBe(400);
    expect(
      (await raw('PUT', `${LEASES}/pi-1`, { body: lease(), contentType: 'text/plain' })).status,
    ).toBe(415);
    const kind = lease();
    kind.kind = 'Node';
    expect(
      (await raw('PUT', `${LEASES}/pi-1`, { body: kind, contentType: 'application/json' })).status,
    ).toBe(400);
  });

  it('a no-op patch writes nothing: no new resourceVersion', async () => {
    const body = { metadata: { labels: { 'farm/phones': '2' } } };
    const a = await raw('PATCH', '/api/v1/nodes/pi-1', { body, contentType: merge });
    const b = await raw('PATCH', '/api/v1/nodes/pi-1', { body, contentType: merge });
    expect(b.body.metadata).toMatchObject({
      resourceVersion: (a.body.metadata as { resourceVersion: string }).resourceVersion,
    });
  });

  it('Lease validation: leaseDurationSeconds > 0, a DNS-subdomain name (422 Invalid)', async () => {
    const r = await raw('POST', LEASES, {
      body: lease({ leaseDurationSeconds: 0 }),
      contentType: 'application/json',
    });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({
      reason: 'Invalid',
      message:
        'Lease "pi-1" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
      details: { causes: [{ field: 'spec.leaseDurationSeconds', reason: 'FieldValueInvalid' }] },
    });
    const badName = lease();
    badName.metadata = { name: 'Pi_1' };
    expect(
      (await raw('POST', LEASES, { body: badName, contentType: 'application/json' })).status,
    ).toBe(422);
  });

  it('label values on node patches: 63 characters and the label regex (422); strings only (400)', async () => {
    const patch = (labels: Record<string, unknown>): Promise<Raw> =>
      raw('PATCH', '/api/v1/nodes/pi-1', { body: { metadata: { labels } }, contentType: merge });
    const long = await patch({ 'farm/type': 'a'.repeat(64) });
    expect(long.status).toBe(422);
    expect(String(long.body.message)).toContain('must be no more than 63 characters');
    const comma = await patch({ 'farm/type': 'pixel,moto' });
    expect(comma.status).toBe(422);
    expect(String(comma.body.message)).toContain(
      "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'",
    );
    expect((await patch({ 'farm/type': '-pixel' })).status).toBe(422);
    expect((await patch({ 'bad key!': 'x' })).status).toBe(422);
    const number = await patch({ 'farm/phones': 2 });
    expect(number.status).toBe(400);
    expect(String(number.body.message)).toContain('cannot unmarshal number');
    expect((await patch({ 'farm/type': 'a'.repeat(63), 'farm/e': '' })).status).toBe(200);
  });

  it('annotations: 256 KiB in total (422)', async () => {
    const big = await raw('PATCH', '/api/v1/nodes/pi-1', {
      body: { metadata: { annotations: { 'farm/inventory': 'x'.repeat(256 * 1024) } } },
      contentType: merge,
    });
    expect(big.status).toBe(422);
    expect(String(big.body.message)).toContain('metadata.annotations: Too long');
  });

  it('events.k8s.io Event: required fields, type, lengths, and a Node event lives in default', async () => {
    const post = (body: unknown, ns = 'default'): Promise<Raw> =>
      raw('POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
        body,
        contentType: 'application/json',
      });
    for (const field of ['reportingInstance', 'action', 'reason']) {
      const r = await post(event({ [field]: undefined }));
      expect(r.status, field).toBe(422);
      expect(r.body.message).toBe(`Event "pi-1.attached.1" is invalid: ${field}: Required value`);
    }
    // An empty controller is also not a qualified name: the real server reports both.
    const noController = await post(event({ reportingController: undefined }));
    expect(noController.body.message).toBe(
      'Event "pi-1.attached.1" is invalid: [reportingController: Required value, reportingController: Invalid value: "": name part must be non-empty]',
    );
    const noTime = await post(event({ eventTime: undefined }));
    expect(noTime.status).toBe(422);
    expect(String(noTime.body.message)).toContain('eventTime: Required value');
    const type = await post(event({ type: 'Info' }));
    expect(type.body.message).toBe(
      'Event "pi-1.attached.1" is invalid: type: Invalid value: "": has invalid value: Info',
    );
    expect((await post(event({ reason: 'r'.repeat(129) }))).status).toBe(422);
    expect((await post(event({ note: 'n'.repeat(1025) }))).status).toBe(422);
    expect((await post(event({ reportingController: 'farm agent' }))).status).toBe(422);
    expect((await post(event({ deprecatedCount: 3 }))).status).toBe(422);
    // The Node is cluster-scoped: its Event may not live in the agent's own namespace.
    const inFarm = await post(event(), 'farm');
    expect(inFarm.status).toBe(422);
    expect(inFarm.body.message).toBe(
      'Event "pi-1.attached.1" is invalid: involvedObject.namespace: Invalid value: "": does not match event.namespace',
    );
    expect((await post(event(), 'kube-system')).status).toBe(201);
    expect((await post(event())).status).toBe(201);
  });

  it('records every request with method, path, query, content type, body and time', async () => {
    const before = Date.now();
    await raw('PATCH', '/api/v1/nodes/pi-1?fieldManager=x', {
      body: { metadata: {} },
      contentType: merge,
    });
    expect(kube.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: '/api/v1/nodes/pi-1',
      query: { fieldManager: 'x' },
      contentType: merge,
      body: { metadata: {} },
      status: 200,
    });
    expect(kube.requests.at(-1)?.at).toBeGreaterThanOrEqual(before);
  });
});

describe('fake kube-apiserver: what farm-agent never asks is refused, not guessed', () => {
  it('a watch, by query or by the old /watch/ path: 400 naming why', async () => {
    for (const path of [
      '/api/v1/nodes?watch=1&fieldSelector=metadata.name%3Dpi-1',
      '/api/v1/nodes/pi-1?watch=true',
      `${LEASES}/pi-1?watch=1`,
      '/api/v1/watch/nodes/pi-1',
    ]) {
      const res = await raw('GET', path);
      expect({ path, status: res.status, reason: res.body.reason }).toEqual({
        path,
        status: 400,
        reason: 'BadRequest',
      });
      expect(res.body.message).toBe(
        'watch is not modelled by the fake: farm-agent and its gate never watch',
      );
    }
    // The refusals are recorded with their status, like any other answer.
    expect(kube.requests.at(-1)).toMatchObject({ path: '/api/v1/watch/nodes/pi-1', status: 400 });
    const fields = await raw('GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dpi-1');
    expect(fields).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    const setBased = await raw('GET', '/api/v1/nodes?labelSelector=a%20in%20(b)');
    expect(setBased.status).toBe(400);
  });
});

describe("fake kube-apiserver: the farm gate's lists, deletes and reviews", () => {
  const PODS = '/api/v1/namespaces/farm/pods';

  it('lists as the real server does: a <Kind>List, items without TypeMeta, paged by limit/continue', async () => {
    for (const name of ['pi-3', 'pi-2']) kube.put('nodes', { metadata: { name } });
    const all = await raw('GET', '/api/v1/nodes');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ kind: 'NodeList', apiVersion: 'v1' });
    const items = all.body.items as Record<string, unknown>[];
    expect(items.map((i) => (i.metadata as { name: string }).name)).toEqual([
      'pi-1',
      'pi-2',
      'pi-3',
    ]);
    expect(items[0]).not.toHaveProperty('kind');
    const first = await raw('GET', '/api/v1/nodes?limit=2');
    const meta = first.body.metadata as { continue: string; remainingItemCount: number };
    expect((first.body.items as unknown[]).length).toBe(2);
    expect(meta.remainingItemCount).toBe(1);
    const rest = await raw('GET', `/api/v1/nodes?limit=2&continue=${meta.continue}`);
    expect(
      (rest.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name),
    ).toEqual(['pi-3']);
    expect(rest.body.metadata).not.toHaveProperty('continue');
    expect((await raw('GET', '/api/v1/nodes?continue=garbage')).status).toBe(400);
    expect((await raw('GET', '/api/v1/nodes?limit=-1')).status).toBe(400);
    const leases = await raw('GET', LEASES);
    expect(leases.body).toMatchObject({ kind: 'LeaseList', apiVersion: 'coordination.k8s.io/v1' });
  });

  it('selects pods by label, deletes one with its uid as precondition, and only that one', async () => {
    const pod = kube.put(
      'pods',
      {
        metadata: {
          name: 'agent-a',
          labels: { app: 'farm-agent', 'controller-revision-hash': 'h1' },
        },
      },
      'farm',
    );
    kube.put('pods', { metadata: { name: 'other', labels: { app: 'x' } } }, 'farm');
    const selected = await raw('GET', `${PODS}?labelSelector=app%3Dfarm-agent`);
    expect((selected.body.items as unknown[]).length).toBe(1);
    const uid = String(pod.metadata?.uid);
    const wrong = await raw('DELETE', `${PODS}/agent-a`, {
      body: { preconditions: { uid: 'someone-else' } },
      contentType: 'application/json',
    });
    expect(wrong).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    const gone = await raw('DELETE', `${PODS}/agent-a`, {
      body: { preconditions: { uid } },
      contentType: 'application/json',
    });
    expect(gone.status).toBe(200);
    expect(gone.body.metadata).toHaveProperty('deletionTimestamp');
    expect((await raw('DELETE', `${PODS}/agent-a`)).status).toBe(404);
    expect((await raw('POST', PODS, { body: {}, contentType: 'application/json' })).status).toBe(
      405,
    );
    expect(kube.get('pods', 'other', 'farm')).toBeDefined();
  });

  it('answers TokenReview and SubjectAccessReview, refusing reviews that cannot be evaluated', async () => {
    kube.identify('alice-token', { username: 'alice', groups: ['farm-admins'] });
    kube.grant({
      group: 'farm-admins',
      verb: 'delete',
      apiGroup: '',
      resource: 'pods',
      namespace: 'farm',
    });
    const review = (token: string) =>
      raw('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
        contentType: 'application/json',
      });
    expect((await review('alice-token')).body).toMatchObject({
      status: { authenticated: true, user: { username: 'alice', groups: ['farm-admins'] } },
    });
    const unknown = await review('nope');
    expect(unknown.status).toBe(201);
    expect(unknown.body.status).not.toHaveProperty('authenticated');
    expect((await review('')).status).toBe(422);
    const sar = (spec: Record<string, unknown>) =>
      raw('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
        contentType: 'application/json',
      });
    const attrs = { namespace: 'farm', verb: 'delete', group: '', resource: 'pods' };
    expect(
      (await sar({ user: 'alice', groups: ['farm-admins'], resourceAttributes: attrs })).body,
    ).toMatchObject({
      status: { allowed: true },
    });
    expect((await sar({ user: 'bob', resourceAttributes: attrs })).body).toMatchObject({
      status: { allowed: false },
    });
    expect((await sar({ resourceAttributes: attrs })).status).toBe(422);
    expect((await sar({ user: 'alice' })).status).toBe(422);
  });
});

describe('fake kube-apiserver faults', () => {
  it('failNext answers a Status, resets, or stalls; then serves again', async () => {
    kube.failNext(1, 503);
    kube.failNext(1, 429);
    expect((await raw('GET', '/api/v1/nodes/pi-1')).body).toMatchObject({
      code: 503,
      reason: 'ServiceUnavailable',
    });
    const limited = await fetch(`${kube.url}/api/v1/nodes/pi-1`, {
      headers: { Authorization: 'Bearer secret' },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    kube.failNext(1, 'reset');
    await expect(raw('GET', '/api/v1/nodes/pi-1')).rejects.toThrow();
    kube.failNext(1, 'stall');
    await expect(
      fetch(`${kube.url}/api/v1/nodes/pi-1`, { signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow();
    expect((await raw('GET', '/api/v1/nodes/pi-1')).status).toBe(200);
  });

  it('setDown refuses connections on the same port until it is up again', async () => {
    await kube.setDown(true);
    await expect(raw('GET', '/api/v1/nodes/pi-1')).rejects.toThrow();
    await kube.setDown(false);
    expect((await raw('GET', '/api/v1/nodes/pi-1')).status).toBe(200);
  });
});
