import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot } from './cluster-model.js';
import { leaseBody } from './lease-writer.js';

/** What a renewal writes, without an API; cluster-reporter.test.ts writes it to the fake. */
describe('leaseBody', () => {
  const id = { name: 'farm-agent-pi-1', holder: 'pod-b', durationSeconds: 40 };
  const snapshot: ClusterSnapshot = { node: 'pi-1', lifecycle: {}, slots: [] };
  const stored = (holder: string): V1Lease => ({
    metadata: { name: id.name, resourceVersion: '7' },
    spec: {
      holderIdentity: holder,
      acquireTime: '2026-01-01T00:00:00.000000Z' as unknown as Date,
      leaseTransitions: 2,
    },
  });
  const iso = (t: unknown): string => new Date(String(t)).toISOString();

  it('a new Lease: acquired and renewed now, no transitions, no resourceVersion', () => {
    const body = leaseBody(id, snapshot, 5_000);
    expect(body.metadata?.resourceVersion).toBeUndefined();
    expect(body.spec).toMatchObject({ holderIdentity: 'pod-b', leaseDurationSeconds: 40 });
    expect(body.spec?.leaseTransitions).toBe(0);
    expect(iso(body.spec?.acquireTime)).toBe(iso(body.spec?.renewTime));
    expect(body.metadata?.annotations).toBeDefined();
  });

  it('the same holder keeps its acquireTime and transitions; the resourceVersion guards the PUT', () => {
    const body = leaseBody(id, snapshot, Date.parse('2026-01-02T00:00:00Z'), stored('pod-b'));
    expect(body.metadata?.resourceVersion).toBe('7');
    expect(iso(body.spec?.acquireTime)).toBe('2026-01-01T00:00:00.000Z');
    expect(body.spec?.leaseTransitions).toBe(2);
  });

  it('taking over from another holder counts a transition and acquires now', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    const body = leaseBody(id, snapshot, now, stored('pod-a'));
    expect(body.spec?.leaseTransitions).toBe(3);
    expect(iso(body.spec?.acquireTime)).toBe(new Date(now).toISOString());
  });
});
