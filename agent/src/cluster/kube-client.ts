/**
 * The Kubernetes calls farm-agent makes, through @kubernetes/client-node 1.4.x: a small typed
 * wrapper, each call with its own timeout and with errors normalised (kube-errors.ts).
 */
import http from 'node:http';
import https from 'node:https';
import {
  type ConfigurationOptions,
  CoordinationV1Api,
  CoreV1Api,
  type EventsV1Event,
  EventsV1Api,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  PatchStrategy,
  setHeaderOptions,
  type V1Lease,
  type V1Node,
} from '@kubernetes/client-node';
import { normaliseError } from './kube-errors.js';

export interface KubeApiOptions {
  /** Per call: connect, send, and read the whole response. Default 10 s. */
  timeoutMs?: number;
}

/**
 * The reporter's calls. One keep-alive agent serves every request: 1.4.x builds a new
 * https.Agent per request (KubeConfig.applySecurityAuthentication), which costs a TCP and TLS
 * handshake for every Lease renewal on a Raspberry Pi.
 */
export class KubeApi {
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly events: EventsV1Api;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  protected constructor(kc: KubeConfig, agent: http.Agent, options: KubeApiOptions) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.events = kc.makeApiClient(EventsV1Api);
    this.agent = agent;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  static async create(kc: KubeConfig, options: KubeApiOptions = {}): Promise<KubeApi> {
    return new KubeApi(kc, await KubeApi.keepAliveAgent(kc), options);
  }

  /** The one agent every call goes through, with the kubeconfig's TLS settings. */
  protected static async keepAliveAgent(kc: KubeConfig): Promise<http.Agent> {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    if (cluster.proxyUrl !== undefined) throw new Error('kubeconfig proxy-url is not supported');
    // CA, client certificate and key exactly as the library would give its per-request agent.
    const tls: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(tls);
    const common = { keepAlive: true, maxSockets: 4, maxFreeSockets: 2 };
    return cluster.server.startsWith('https:')
      ? new https.Agent({
          ...common,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          servername: tls.servername,
          rejectUnauthorized: tls.rejectUnauthorized ?? true,
        })
      : new http.Agent(common);
  }

  /** Per-call options: the shared agent and a fresh timeout signal. */
  private options(base?: ConfigurationOptions): ConfigurationOptions {
    const middleware: ObservableMiddleware = {
      pre: (ctx) => {
        ctx.setAgent(this.agent);
        ctx.setSignal(AbortSignal.timeout(this.timeoutMs));
        return new Observable(Promise.resolve(ctx));
      },
      post: (rsp) => new Observable(Promise.resolve(rsp)),
    };
    return {
      ...base,
      middleware: [...(base?.middleware ?? []), middleware],
      middlewareMergeStrategy: 'append',
    };
  }

  protected async call<T>(
    fn: (options: ConfigurationOptions) => Promise<T>,
    base?: ConfigurationOptions,
  ): Promise<T> {
    try {
      return await fn(this.options(base));
    } catch (e) {
      throw normaliseError(e);
    }
  }

  getLease(namespace: string, name: string): Promise<V1Lease> {
    return this.call((o) => this.coordination.readNamespacedLease({ namespace, name }, o));
  }

  createLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    return this.call((o) =>
      this.coordination.createNamespacedLease(
        { namespace, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease } },
        o,
      ),
    );
  }

  /** PUT; a metadata.resourceVersion older than the stored one fails with 409 Conflict. */
  replaceLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    const name = lease.metadata?.name ?? '';
    return this.call((o) =>
      this.coordination.replaceNamespacedLease(
        {
          namespace,
          name,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
        },
        o,
      ),
    );
  }

  getNode(name: string): Promise<V1Node> {
    return this.call((o) => this.core.readNode({ name }, o));
  }

  /**
   * JSON merge patch (RFC 7386: null deletes a key). The Content-Type must be set explicitly:
   * 1.4.x otherwise sends application/json-patch+json with the object body, which the API
   * server rejects.
   */
  patchNode(name: string, mergePatch: Record<string, unknown>): Promise<V1Node> {
    return this.call(
      (o) => this.core.patchNode({ name, body: mergePatch }, o),
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /**
   * Strategic merge patch of the Node's status subresource: its `conditions` merge by `type`,
   * so the agent's own condition is set without touching the kubelet's (a JSON merge patch
   * would replace the whole list).
   */
  patchNodeStatus(name: string, strategicPatch: Record<string, unknown>): Promise<V1Node> {
    return this.call(
      (o) => this.core.patchNodeStatus({ name, body: strategicPatch }, o),
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  }

  /** An events.k8s.io/v1 Event; one regarding a Node must go to `default` or `kube-system`. */
  createEvent(namespace: string, event: EventsV1Event): Promise<EventsV1Event> {
    return this.call((o) =>
      this.events.createNamespacedEvent(
        { namespace, body: { apiVersion: 'events.k8s.io/v1', kind: 'Event', ...event } },
        o,
      ),
    );
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
