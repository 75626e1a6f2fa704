/**
 * The Kubernetes calls the farm gate makes, on top of the agent's (Node patch, Events): lists of
 * Leases and Nodes (paged), the agents' pods and the DaemonSet's revisions for updates, pod
 * deletion, and the reviews that tell who a caller is and what they may do.
 */
import {
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  type ConfigurationOptions,
  type KubeConfig,
  type V1ControllerRevision,
  type V1DaemonSet,
  type V1Lease,
  type V1ListMeta,
  type V1Node,
  type V1Pod,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import type http from 'node:http';
import { KubeApi, type KubeApiOptions } from '../cluster/kube-client.js';

/** Items per list request: 1,000 Leases arrive in two pages, never one 30 MB answer. */
export const LIST_PAGE = 500;

export interface Identity {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export class GateKubeApi extends KubeApi {
  private readonly gateCore: CoreV1Api;
  private readonly gateLeases: CoordinationV1Api;
  private readonly apps: AppsV1Api;
  private readonly authn: AuthenticationV1Api;
  private readonly authz: AuthorizationV1Api;

  protected constructor(kc: KubeConfig, agent: http.Agent, options: KubeApiOptions) {
    super(kc, agent, options);
    this.gateCore = kc.makeApiClient(CoreV1Api);
    this.gateLeases = kc.makeApiClient(CoordinationV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.authn = kc.makeApiClient(AuthenticationV1Api);
    this.authz = kc.makeApiClient(AuthorizationV1Api);
  }

  static override async create(kc: KubeConfig, options: KubeApiOptions = {}): Promise<GateKubeApi> {
    return new GateKubeApi(kc, await KubeApi.keepAliveAgent(kc), options);
  }

  /** Every page of a list, one request per page. */
  private async all<T>(
    page: (
      cont: string | undefined,
      options: ConfigurationOptions,
    ) => Promise<{ items: T[]; metadata?: V1ListMeta }>,
  ): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const list = await this.call((o) => page(cont, o));
      items.push(...list.items);
      cont = list.metadata?._continue || undefined;
    } while (cont !== undefined);
    return items;
  }

  listLeases(namespace: string): Promise<V1Lease[]> {
    return this.all((cont, o) =>
      this.gateLeases.listNamespacedLease(
        { namespace, limit: LIST_PAGE, ...(cont ? { _continue: cont } : {}) },
        o,
      ),
    );
  }

  listNodes(): Promise<V1Node[]> {
    return this.all((cont, o) =>
      this.gateCore.listNode({ limit: LIST_PAGE, ...(cont ? { _continue: cont } : {}) }, o),
    );
  }

  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return this.all((cont, o) =>
      this.gateCore.listNamespacedPod(
        { namespace, labelSelector, limit: LIST_PAGE, ...(cont ? { _continue: cont } : {}) },
        o,
      ),
    );
  }

  /** Deletes the pod only if it is still the one with this uid (not a replacement). */
  async deletePod(namespace: string, name: string, uid: string): Promise<void> {
    await this.call((o) =>
      this.gateCore.deleteNamespacedPod({ namespace, name, body: { preconditions: { uid } } }, o),
    );
  }

  getDaemonSet(namespace: string, name: string): Promise<V1DaemonSet> {
    return this.call((o) => this.apps.readNamespacedDaemonSet({ namespace, name }, o));
  }

  listControllerRevisions(
    namespace: string,
    labelSelector: string,
  ): Promise<V1ControllerRevision[]> {
    return this.all((cont, o) =>
      this.apps.listNamespacedControllerRevision(
        { namespace, labelSelector, limit: LIST_PAGE, ...(cont ? { _continue: cont } : {}) },
        o,
      ),
    );
  }

  /** Who a bearer token belongs to; undefined when the API server does not know it. */
  async reviewToken(token: string): Promise<Identity | undefined> {
    const review = await this.call((o) =>
      this.authn.createTokenReview(
        {
          body: {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenReview',
            spec: { token },
          },
        },
        o,
      ),
    );
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
    const review = await this.call((o) =>
      this.authz.createSubjectAccessReview(
        {
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
        },
        o,
      ),
    );
    return review.status?.allowed === true;
  }
}
