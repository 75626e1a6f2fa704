/**
 * The Kubernetes calls the farm gate makes, on top of the agent's (Node patch, Events): lists of
 * Leases and Nodes (paged), the agents' pods and the DaemonSet's revisions for updates, pod
 * deletion, and the reviews that tell who a caller is and what they may do.
 */
import type {
  V1ControllerRevision,
  V1DaemonSet,
  V1Lease,
  V1Node,
  V1Pod,
  V1ResourceAttributes,
  V1SubjectAccessReview,
  V1TokenReview,
} from '@kubernetes/client-node';
import { resourcePath, withQuery, type ResourceRef } from '../cluster/api-paths.js';
import { KubeApi } from '../cluster/kube-client.js';

/** Items per list request: 1,000 Leases arrive in two pages, never one 30 MB answer. */
export const LIST_PAGE = 500;

export interface Identity {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** A list as the server sends it: the next page's token is `metadata.continue` on the wire. */
interface ListPage<T> {
  items: T[];
  metadata?: { continue?: string };
}

export class GateKubeApi extends KubeApi {
  /** Every page of a list, one request per page. */
  private async all<T>(ref: ResourceRef, labelSelector?: string): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const list = await this.http.request<ListPage<T>>({
        method: 'GET',
        path: withQuery(resourcePath(ref), { labelSelector, limit: LIST_PAGE, continue: cont }),
      });
      items.push(...list.items);
      cont = list.metadata?.continue || undefined;
    } while (cont !== undefined);
    return items;
  }

  listLeases(namespace: string): Promise<V1Lease[]> {
    return this.all({ groupVersion: 'coordination.k8s.io/v1', resource: 'leases', namespace });
  }

  listNodes(): Promise<V1Node[]> {
    return this.all({ groupVersion: 'v1', resource: 'nodes' });
  }

  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return this.all({ groupVersion: 'v1', resource: 'pods', namespace }, labelSelector);
  }

  /** Deletes the pod only if it is still the one with this uid (not a replacement). */
  async deletePod(namespace: string, name: string, uid: string): Promise<void> {
    await this.http.request({
      method: 'DELETE',
      path: resourcePath({ groupVersion: 'v1', resource: 'pods', namespace, name }),
      body: { preconditions: { uid } },
    });
  }

  getDaemonSet(namespace: string, name: string): Promise<V1DaemonSet> {
    return this.http.request({
      method: 'GET',
      path: resourcePath({ groupVersion: 'apps/v1', resource: 'daemonsets', namespace, name }),
    });
  }

  listControllerRevisions(
    namespace: string,
    labelSelector: string,
  ): Promise<V1ControllerRevision[]> {
    return this.all(
      { groupVersion: 'apps/v1', resource: 'controllerrevisions', namespace },
      labelSelector,
    );
  }

  /** Who a bearer token belongs to; undefined when the API server does not know it. */
  async reviewToken(token: string): Promise<Identity | undefined> {
    const review = await this.http.request<V1TokenReview>({
      method: 'POST',
      path: resourcePath({ groupVersion: 'authentication.k8s.io/v1', resource: 'tokenreviews' }),
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    const user = review.status?.user;
    if (review.status?.authenticated !== true || user?.username === undefined) return undefined;
    return {
      username: user.username,
      ...(user.uid === undefined ? {} : { uid: user.uid }),
      groups: user.groups ?? [],
      ...(user.extra === undefined ? {} : { extra: user.extra }),
    };
  }

  /** Whether this identity may do this, as kube-rbac-proxy asks. */
  async mayDo(who: Identity, attributes: V1ResourceAttributes): Promise<boolean> {
    const review = await this.http.request<V1SubjectAccessReview>({
      method: 'POST',
      path: resourcePath({
        groupVersion: 'authorization.k8s.io/v1',
        resource: 'subjectaccessreviews',
      }),
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: who.username,
          groups: who.groups,
          ...(who.uid === undefined ? {} : { uid: who.uid }),
          ...(who.extra === undefined ? {} : { extra: who.extra }),
          resourceAttributes: attributes,
        },
      },
    });
    return review.status?.allowed === true;
  }
}
