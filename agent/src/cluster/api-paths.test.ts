import { describe, expect, it } from 'vitest';
import { resourcePath, withQuery } from './api-paths.js';

describe('resourcePath', () => {
  it('core group under /api/v1, others under /apis; namespaced, named, subresource', () => {
    expect(
      resourcePath({ groupVersion: 'v1', resource: 'nodes', name: 'pi-1', subresource: 'status' }),
    ).toBe('/api/v1/nodes/pi-1/status');
    expect(
      resourcePath({
        groupVersion: 'coordination.k8s.io/v1',
        resource: 'leases',
        namespace: 'farm',
      }),
    ).toBe('/apis/coordination.k8s.io/v1/namespaces/farm/leases');
    expect(
      resourcePath({
        groupVersion: 'apps/v1',
        resource: 'daemonsets',
        namespace: 'farm',
        name: 'a b/c',
      }),
    ).toBe('/apis/apps/v1/namespaces/farm/daemonsets/a%20b%2Fc');
  });
});

describe('withQuery', () => {
  it('only the defined values, escaped; the bare path without any', () => {
    expect(withQuery('/api/v1/pods', {})).toBe('/api/v1/pods');
    expect(
      withQuery('/api/v1/pods', {
        labelSelector: 'app=farm-agent,tier in (a)',
        limit: 500,
        continue: undefined,
      }),
    ).toBe('/api/v1/pods?labelSelector=app%3Dfarm-agent%2Ctier+in+%28a%29&limit=500');
  });
});
