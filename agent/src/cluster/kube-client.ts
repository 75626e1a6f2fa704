/**
 * Cluster access for farm-agent through @kubernetes/client-node 1.4.x: where the configuration
 * comes from (in-cluster service account, a kubeconfig, or none: standalone), and a small typed
 * wrapper with exactly the calls the cluster reporter makes, each with its own timeout and with
 * errors normalised to {status, reason, retryable}.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import {
  ApiException,
  type ConfigurationOptions,
  CoordinationV1Api,
  CoreV1Api,
  type EventsV1Event,
  EventsV1Api,
  KubeConfig,
  Observable,
  type ObservableMiddleware,
  PatchStrategy,
  setHeaderOptions,
  type V1Lease,
  type V1Node,
  type V1Status,
} from '@kubernetes/client-node';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type ClusterConfig =
  | {
      kubeConfig: KubeConfig;
      source: 'in-cluster' | 'kubeconfig';
      /** The service account's namespace, or the kubeconfig context's ('default' if none). */
      namespace: string;
      server: string;
    }
  | { kubeConfig: undefined; reason: string };

export interface LoadKubeConfigOptions {
  /** Explicit kubeconfig file; otherwise the first entry of KUBECONFIG. */
  kubeconfigPath?: string;
  /** Root under which the service-account files live ('' in a pod; a temp dir in tests). */
  inClusterPrefix?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * In-cluster first (KUBERNETES_SERVICE_HOST/PORT plus the service-account token and CA), then a
 * kubeconfig file, else no cluster, with the reason to show in /status. ~/.kube/config is not
 * consulted: a DaemonSet pod has none, and a local run should name its cluster on purpose.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): ClusterConfig {
  const env = options.env ?? process.env;
  const prefix = options.inClusterPrefix ?? '';
  const saDir = `${prefix}${SERVICE_ACCOUNT_DIR}`;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const missing: string[] = [];
  if (host !== undefined && host !== '' && port !== undefined && port !== '') {
    const files = ['token', 'ca.crt'].filter((f) => !existsSync(join(saDir, f)));
    if (files.length === 0) {
      const kc = new KubeConfig();
      // loadFromCluster reads the process environment itself.
      withEnv(env, () => kc.loadFromCluster(prefix));
      return loaded(kc, 'in-cluster');
    }
    missing.push(`in-cluster: ${files.map((f) => join(saDir, f)).join(', ')} missing`);
  } else {
    missing.push('in-cluster: KUBERNETES_SERVICE_HOST/PORT unset');
  }
  const path = options.kubeconfigPath ?? env.KUBECONFIG?.split(':').find((p) => p !== '');
  if (path === undefined) {
    missing.push('kubeconfig: KUBECONFIG unset');
  } else if (!existsSync(path)) {
    missing.push(`kubeconfig: ${path} not found`);
  } else {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(path);
    } catch (e) {
      return { kubeConfig: undefined, reason: `kubeconfig ${path}: ${(e as Error).message}` };
    }
    if (kc.getCurrentCluster() === null) {
      return { kubeConfig: undefined, reason: `kubeconfig ${path}: no current cluster` };
    }
    return loaded(kc, 'kubeconfig');
  }
  return { kubeConfig: undefined, reason: `no cluster configuration (${missing.join('; ')})` };
}

function loaded(kc: KubeConfig, source: 'in-cluster' | 'kubeconfig'): ClusterConfig {
  const context = kc.getContextObject(kc.getCurrentContext());
  return {
    kubeConfig: kc,
    source,
    // The namespace file is read verbatim; a hand-written one may end in a newline.
    namespace: context?.namespace?.trim() || 'default',
    server: kc.getCurrentCluster()?.server ?? '',
  };
}

function withEnv(env: NodeJS.ProcessEnv, fn: () => void): void {
  if (env === process.env) {
    fn();
    return;
  }
  const saved = {
    host: process.env.KUBERNETES_SERVICE_HOST,
    port: process.env.KUBERNETES_SERVICE_PORT,
  };
  process.env.KUBERNETES_SERVICE_HOST = env.KUBERNETES_SERVICE_HOST;
  process.env.KUBERNETES_SERVICE_PORT = env.KUBERNETES_SERVICE_PORT;
  try {
    fn();
  } finally {
    for (const [k, v] of [
      ['KUBERNETES_SERVICE_HOST', saved.host],
      ['KUBERNETES_SERVICE_PORT', saved.port],
    ] as const) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
}

/** An API failure as the reporter needs to see it. */
export class KubeApiError extends Error {
  constructor(
    /** HTTP status; undefined when no response came (refused, reset, timeout, TLS). */
    readonly status: number | undefined,
    /** The Status reason (`Conflict`, `NotFound`, `Expired`...) or a transport reason. */
    readonly reason: string,
    /** Whether the same call may succeed later. 404 is not, and callers treat it specially. */
    readonly retryable: boolean,
    message: string,
    /** From Retry-After on 429/503. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);

const NETWORK_CODES = new Set([
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
]);

/** From an HTTP status and, when the body is a Status, its reason and message. */
function errorFromStatus(code: number, body: unknown, retryAfter?: string): KubeApiError {
  const status = parseStatus(body);
  const reason = status?.reason ?? http.STATUS_CODES[code] ?? 'Unknown';
  // Retrying a create for a name that exists never succeeds; a Conflict (stale
  // resourceVersion) does once the caller re-reads the object.
  const retryable =
    (code === 409 && reason !== 'AlreadyExists') || code === 429 || code === 408 || code >= 500;
  const seconds = retryAfter === undefined ? undefined : Number(retryAfter);
  return new KubeApiError(
    code,
    reason,
    retryable,
    status?.message ?? `HTTP ${code}`,
    seconds !== undefined && Number.isFinite(seconds) ? seconds : undefined,
  );
}

function parseStatus(body: unknown): V1Status | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && value !== null && (value as V1Status).kind === 'Status'
    ? (value as V1Status)
    : undefined;
}

/** Any failure of a call, from the generated client or the transport beneath it. */
export function normaliseError(e: unknown): KubeApiError {
  if (e instanceof KubeApiError) return e;
  if (e instanceof ApiException) {
    const headers = e.headers as Record<string, string>;
    return errorFromStatus(e.code, e.body, headers['retry-after']);
  }
  const err = e as { name?: string; code?: string; message?: string };
  const message = err.message ?? String(e);
  if (err.name === 'AbortError' || err.name === 'TimeoutError') {
    return new KubeApiError(undefined, 'Timeout', true, message);
  }
  if (err.code === 'ECONNREFUSED')
    return new KubeApiError(undefined, 'ConnectionRefused', true, message);
  if (err.code === 'ECONNRESET')
    return new KubeApiError(undefined, 'ConnectionReset', true, message);
  if (err.code !== undefined && TLS_CODES.has(err.code)) {
    return new KubeApiError(undefined, 'TLSError', false, message);
  }
  if (err.code !== undefined && NETWORK_CODES.has(err.code)) {
    return new KubeApiError(undefined, 'NetworkError', true, message);
  }
  return new KubeApiError(undefined, 'Unknown', false, message);
}

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

  private constructor(kc: KubeConfig, agent: http.Agent, options: KubeApiOptions) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.events = kc.makeApiClient(EventsV1Api);
    this.agent = agent;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  static async create(kc: KubeConfig, options: KubeApiOptions = {}): Promise<KubeApi> {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    if (cluster.proxyUrl !== undefined) throw new Error('kubeconfig proxy-url is not supported');
    // CA, client certificate and key exactly as the library would give its per-request agent.
    const tls: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(tls);
    const common = { keepAlive: true, maxSockets: 4, maxFreeSockets: 2 };
    const agent = cluster.server.startsWith('https:')
      ? new https.Agent({
          ...common,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          servername: tls.servername,
          rejectUnauthorized: tls.rejectUnauthorized ?? true,
        })
      : new http.Agent(common);
    return new KubeApi(kc, agent, options);
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

  private async call<T>(
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
