/**
 * The heartbeat Lease: what it says (leaseBody, pure: holder, MicroTimes, transitions, the
 * snapshot's annotations) and writing it against other writers (renew).
 */
import type { V1Lease } from '@kubernetes/client-node';
import { MicroTime } from './micro-time.js';
import type { ClusterSnapshot } from './cluster-model.js';
import { leaseAnnotations, urgentLeaseKey } from './lease-annotations.js';
import type { KubeApi } from './kube-client.js';
import { isStatus, KubeApiError } from './kube-errors.js';
import type { KubeRequests } from './kube-requests.js';

export interface LeaseHolder {
  name: string;
  /** holderIdentity: the pod. */
  holder: string;
  durationSeconds: number;
}

/** The Lease renewed at `now` by `id`, following `current` (the stored one) if there is one. */
export function leaseBody(
  id: LeaseHolder,
  snapshot: ClusterSnapshot,
  now: number,
  current?: V1Lease,
): V1Lease {
  const spec = current?.spec;
  const sameHolder = spec?.holderIdentity === id.holder;
  // The server hands MicroTimes back as strings; a MicroTime serialises with 6 digits.
  const acquired =
    sameHolder && spec?.acquireTime !== undefined ? Date.parse(String(spec.acquireTime)) : now;
  const transitions = (spec?.leaseTransitions ?? 0) + (current === undefined || sameHolder ? 0 : 1);
  return {
    metadata: {
      name: id.name,
      ...(current?.metadata?.resourceVersion === undefined
        ? {}
        : { resourceVersion: current.metadata.resourceVersion }),
      labels: { 'app.kubernetes.io/name': 'farm-agent' },
      annotations: leaseAnnotations(snapshot),
    },
    spec: {
      holderIdentity: id.holder,
      leaseDurationSeconds: id.durationSeconds,
      acquireTime: new MicroTime(Number.isNaN(acquired) ? now : acquired),
      renewTime: new MicroTime(now),
      leaseTransitions: transitions,
    },
  };
}

export interface LeaseWriterOptions extends LeaseHolder {
  api: Pick<KubeApi, 'getLease' | 'createLease' | 'replaceLease'>;
  namespace: string;
  requests: Pick<KubeRequests, 'request'>;
}

export class LeaseWriter {
  /** The Lease as last read or written: its resourceVersion guards the next write. */
  private lease: V1Lease | undefined;
  /** urgentLeaseKey of the snapshot last written. */
  private writtenKey: string | undefined;

  constructor(private readonly options: LeaseWriterOptions) {}

  /** Reads the stored Lease (and keeps it for the next renewal). */
  async read(): Promise<V1Lease> {
    this.lease = await this.get();
    return this.lease;
  }

  /** Whether the snapshot differs from the last one written in a way that cannot wait. */
  outdated(snapshot: ClusterSnapshot): boolean {
    return urgentLeaseKey(snapshot) !== this.writtenKey;
  }

  /**
   * Renews the Lease with the snapshot's annotations: PUT with the resourceVersion last seen;
   * a Conflict re-reads it, a NotFound creates it (and an AlreadyExists re-reads again).
   */
  async renew(snapshot: ClusterSnapshot, now: number): Promise<void> {
    const { api, namespace, requests } = this.options;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.lease === undefined) {
        try {
          this.lease = await this.get();
        } catch (e) {
          if (!isStatus(e, 404)) throw e;
          try {
            this.lease = await requests.request('create', 'leases', () =>
              api.createLease(namespace, leaseBody(this.options, snapshot, now)),
            );
            return this.written(snapshot);
          } catch (e2) {
            if (isStatus(e2, 409, 'AlreadyExists')) continue;
            throw e2;
          }
        }
      }
      const current = this.lease;
      try {
        this.lease = await requests.request('update', 'leases', () =>
          api.replaceLease(namespace, leaseBody(this.options, snapshot, now, current)),
        );
        return this.written(snapshot);
      } catch (e) {
        if (!isStatus(e, 409) && !isStatus(e, 404)) throw e;
        this.lease = undefined;
      }
    }
    throw new KubeApiError(
      409,
      'Conflict',
      true,
      `Lease ${this.options.name}: conflicting writers`,
    );
  }

  private get(): Promise<V1Lease> {
    const { api, namespace, name, requests } = this.options;
    return requests.request('get', 'leases', () => api.getLease(namespace, name));
  }

  private written(snapshot: ClusterSnapshot): void {
    this.writtenKey = urgentLeaseKey(snapshot);
  }
}
