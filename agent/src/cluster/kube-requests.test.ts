import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { KubeApiError } from './kube-errors.js';
import { KubeRequests } from './kube-requests.js';

describe('KubeRequests', () => {
  it('counts reads and writes; a 4xx is an answer, no answer or a 5xx is an outage', async () => {
    const registry = new Registry();
    let backs = 0;
    const r = new KubeRequests(registry, pino({ level: 'silent' }), () => (backs += 1));
    const fail = (status: number | undefined) => () =>
      Promise.reject(new KubeApiError(status, 'X', true, 'failed'));
    expect(r.stats()).toEqual({ reachable: false, writes: 0, reads: 0 });

    await r.request('get', 'nodes', () => Promise.resolve(1));
    expect(r.stats()).toMatchObject({ reachable: true, reads: 1 });
    await expect(r.request('patch', 'nodes', fail(404))).rejects.toBeInstanceOf(KubeApiError);
    expect(r.stats()).toMatchObject({
      reachable: true,
      writes: 1,
      lastError: 'patch nodes: X: failed',
    });
    await expect(r.request('create', 'events', fail(undefined))).rejects.toThrow('failed');
    expect(r.stats().reachable).toBe(false);
    await r.request('create', 'events', () => Promise.resolve(1));
    expect(r.stats()).toMatchObject({ reachable: true, reads: 1, writes: 3 });
    // The first answer and the answer after the outage.
    expect(backs).toBe(2);

    const counted = await registry.getSingleMetricAsString('farm_kube_requests_total');
    expect(counted).toContain('verb="create",resource="events",code="201"} 1');
    expect(counted).toContain('verb="patch",resource="nodes",code="404"} 1');
    expect(counted).toContain('verb="create",resource="events",code="X"} 1');
    expect(await registry.getSingleMetricAsString('farm_kube_reachable')).toContain(' 1');
  });
});
