/**
 * The Kubernetes calls farm-agent makes, each a plain REST request through kube-http.ts (one
 * keep-alive agent, its own timeout, errors normalised by kube-errors.ts). The object shapes are
 * @kubernetes/client-node's types, used for their types only: its runtime (every API group and
 * its ObjectSerializer) costs ~70 MiB of RSS and shows in every idle CPU profile.
 */
import type { EventsV1Event, V1Lease, V1Node } from '@kubernetes/client-node';
import { resourcePath } from './api-paths.js';
import type { KubeConnection } from './kube-config.js';
import { KubeHttp, type KubeHttpOptions } from './kube-http.js';

const LEASES = { groupVersion: 'coordination.k8s.io/v1', resource: 'leases' };
const NODES = { groupVersion: 'v1', resource: 'nodes' };

/** JSON merge patch (RFC 7386: null deletes a key). */
export const MERGE_PATCH = 'application/merge-patch+json';
/** Strategic merge patch: lists such as Node conditions merge by their key. */
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

/** The reporter's calls. */
export class KubeApi {
  protected readonly http: KubeHttp;

  constructor(connection: KubeConnection, options: KubeHttpOptions = {}) {
    this.http = new KubeHttp(connection, options);
  }

  getLease(namespace: string, name: string): Promise<V1Lease> {
    return this.http.request({ method: 'GET', path: resourcePath({ ...LEASES, namespace, name }) });
  }

  createLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    return this.http.request({
      method: 'POST',
      path: resourcePath({ ...LEASES, namespace }),
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
    });
  }

  /** PUT; a metadata.resourceVersion older than the stored one fails with 409 Conflict. */
  replaceLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    const name = lease.metadata?.name ?? '';
    return this.http.request({
      method: 'PUT',
      path: resourcePath({ ...LEASES, namespace, name }),
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
    });
  }

  getNode(name: string): Promise<V1Node> {
    return this.http.request({ method: 'GET', path: resourcePath({ ...NODES, name }) });
  }

  /** JSON merge patch of the Node (labels, annotations). */
  patchNode(name: string, mergePatch: Record<string, unknown>): Promise<V1Node> {
    return this.http.request({
      method: 'PATCH',
      path: resourcePath({ ...NODES, name }),
      body: mergePatch,
      contentType: MERGE_PATCH,
    });
  }

  /**
   * Strategic merge patch of the Node's status subresource: its `conditions` merge by `type`,
   * so the agent's own condition is set without touching the kubelet's (a JSON merge patch
   * would replace the whole list).
   */
  patchNodeStatus(name: string, strategicPatch: Record<string, unknown>): Promise<V1Node> {
    return this.http.request({
      method: 'PATCH',
      path: resourcePath({ ...NODES, name, subresource: 'status' }),
      body: strategicPatch,
      contentType: STRATEGIC_MERGE_PATCH,
    });
  }

  /** An events.k8s.io/v1 Event; one regarding a Node must go to `default` or `kube-system`. */
  createEvent(namespace: string, event: EventsV1Event): Promise<EventsV1Event> {
    return this.http.request({
      method: 'POST',
      path: resourcePath({ groupVersion: 'events.k8s.io/v1', resource: 'events', namespace }),
      body: { apiVersion: 'events.k8s.io/v1', kind: 'Event', ...event },
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.http.close();
  }
}
