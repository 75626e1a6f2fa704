/**
 * The handful of kube-apiserver endpoints farm-agent uses, with the real server's order of
 * checks: media type (415), decoding (400), existence (404), preconditions (409), validation (422).
 */
import { listPage } from './lists.js';
import { applyPatch, patchType } from './patch.js';
import {
  ACCESS_REVIEWS,
  accessReview,
  type Grant,
  TOKEN_REVIEWS,
  tokenReview,
  type UserInfo,
} from './reviews.js';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  methodNotAllowed,
  noRoute,
  notFound,
  type ResourceInfo,
  unsupportedMediaType,
} from './status.js';
import type { ObjectStore } from './store.js';
import {
  checkTypeMeta,
  isPlainObject,
  type KubeObject,
  validateEvent,
  validateLease,
  validateNode,
  validateNodeStatus,
} from './validation.js';

export const NODES: ResourceInfo = {
  group: '',
  resource: 'nodes',
  kind: 'Node',
  namespaced: false,
};
export const LEASES: ResourceInfo = {
  group: 'coordination.k8s.io',
  resource: 'leases',
  kind: 'Lease',
  namespaced: true,
};
export const EVENTS: ResourceInfo = {
  group: 'events.k8s.io',
  resource: 'events',
  kind: 'Event',
  namespaced: true,
};

export const PODS: ResourceInfo = { group: '', resource: 'pods', kind: 'Pod', namespaced: true };
export const DAEMONSETS: ResourceInfo = {
  group: 'apps',
  resource: 'daemonsets',
  kind: 'DaemonSet',
  namespaced: true,
};
export const CONTROLLER_REVISIONS: ResourceInfo = {
  group: 'apps',
  resource: 'controllerrevisions',
  kind: 'ControllerRevision',
  namespaced: true,
};

/** Who the reviews know: tokens of people and tools, and what each may do. */
export interface ReviewWorld {
  identities: Map<string, UserInfo>;
  grants: Grant[];
}

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  /** The raw body text; decoding it is part of what is being checked. */
  body: string;
}

export interface ApiResult {
  status: number;
  body: unknown;
}

/** Bodies of POST and PUT: the real server also takes YAML and protobuf, the fake only JSON. */
function decodeObject(info: ResourceInfo, req: ApiRequest): KubeObject {
  const media = (req.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (media !== 'application/json') {
    throw unsupportedMediaType([
      'application/json',
      'application/yaml',
      'application/vnd.kubernetes.protobuf',
    ]);
  }
  const body = parseJson(req.body);
  if (!isPlainObject(body))
    throw badRequest(
      `${info.kind} in version "v1" cannot be handled as a ${info.kind}: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type struct`,
    );
  checkTypeMeta(info, body);
  return body as KubeObject;
}

function throwNoRoute(): never {
  throw noRoute();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`error decoding body: ${(e as Error).message}`);
  }
}

function checkNamespace(obj: KubeObject, namespace: string): void {
  const ns = obj.metadata?.namespace;
  if (ns !== undefined && ns !== '' && ns !== namespace) {
    throw badRequest(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  }
}

function checkName(obj: KubeObject, name: string): void {
  const inBody = obj.metadata?.name;
  if (inBody !== name) {
    throw badRequest(
      `the name of the object (${String(inBody)}) does not match the name on the URL (${name})`,
    );
  }
}

type Validator = (info: ResourceInfo, obj: KubeObject, namespace: string) => void;

export class Routes {
  constructor(
    private readonly store: ObjectStore,
    private readonly reviews: ReviewWorld = { identities: new Map(), grants: [] },
  ) {}

  handle(req: ApiRequest): ApiResult {
    const p = req.path;
    let m: RegExpMatchArray | null;
    // Neither the agent nor the gate watches (the gate lists periodically): refused, not
    // answered with a guess, so that a client starting to do so fails its tests at once.
    if (req.query.has('watch') || /^\/apis?\/(.+\/)?watch\//.test(p)) {
      throw badRequest('watch is not modelled by the fake: farm-agent and its gate never watch');
    }
    if (p === '/api/v1/nodes') return this.list(req, NODES, undefined);
    if ((m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(p))) {
      // nodeStrategy.PrepareForUpdate: the main resource keeps the stored status.
      return this.item(req, NODES, '', m[1] ?? '', ['GET', 'PATCH'], (i, o) => validateNode(i, o), {
        keep: 'status',
      });
    }
    if ((m = /^\/api\/v1\/nodes\/([^/]+)\/status$/.exec(p))) {
      // nodeStatusStrategy: the status subresource keeps the stored spec and metadata.
      return this.item(req, NODES, '', m[1] ?? '', ['GET', 'PATCH'], validateNodeStatus, {
        keep: 'spec',
      });
    }
    if ((m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases$/.exec(p))) {
      if (req.method === 'GET') return this.list(req, LEASES, m[1] ?? '');
      if (req.method !== 'POST') throw methodNotAllowed(req.method);
      return this.create(req, LEASES, m[1] ?? '', (i, o) => validateLease(i, o));
    }
    if ((m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases\/([^/]+)$/.exec(p))) {
      return this.item(req, LEASES, m[1] ?? '', m[2] ?? '', ['GET', 'PUT', 'PATCH'], (i, o) =>
        validateLease(i, o),
      );
    }
    if ((m = /^\/apis\/events\.k8s\.io\/v1\/namespaces\/([^/]+)\/events$/.exec(p))) {
      if (req.method !== 'POST') throw methodNotAllowed(req.method);
      return this.create(req, EVENTS, m[1] ?? '', validateEvent);
    }
    return this.gateRoute(req) ?? throwNoRoute();
  }

  /** What the farm gate reads, deletes and asks on top of the agent's calls. */
  private gateRoute(req: ApiRequest): ApiResult | undefined {
    const p = req.path;
    let m: RegExpMatchArray | null;
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(p))) {
      if (req.method !== 'GET') throw methodNotAllowed(req.method);
      return this.list(req, PODS, m[1] ?? '');
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(p))) {
      if (req.method === 'DELETE') return this.deletePod(req, m[1] ?? '', m[2] ?? '');
      return this.item(req, PODS, m[1] ?? '', m[2] ?? '', ['GET'], () => undefined);
    }
    if ((m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/daemonsets\/([^/]+)$/.exec(p))) {
      return this.item(req, DAEMONSETS, m[1] ?? '', m[2] ?? '', ['GET'], () => undefined);
    }
    if ((m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/controllerrevisions$/.exec(p))) {
      if (req.method !== 'GET') throw methodNotAllowed(req.method);
      return this.list(req, CONTROLLER_REVISIONS, m[1] ?? '');
    }
    if (p === '/apis/authentication.k8s.io/v1/tokenreviews') {
      if (req.method !== 'POST') throw methodNotAllowed(req.method);
      return tokenReview(decodeObject(TOKEN_REVIEWS, req), this.reviews.identities);
    }
    if (p === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
      if (req.method !== 'POST') throw methodNotAllowed(req.method);
      return accessReview(decodeObject(ACCESS_REVIEWS, req), this.reviews.grants);
    }
    return undefined;
  }

  private list(req: ApiRequest, info: ResourceInfo, namespace: string | undefined): ApiResult {
    return listPage(
      info,
      this.store.list(info.resource, namespace),
      req.query,
      this.store.resourceVersion,
    );
  }

  /**
   * DELETE of a pod: an optional DeleteOptions body whose preconditions (uid, resourceVersion)
   * must hold (409 otherwise). The pod goes at once (no kubelet here to wait for), and the
   * answer is the pod as the real server returns it for a graceful delete.
   */
  private deletePod(req: ApiRequest, namespace: string, name: string): ApiResult {
    const options = req.body.trim() === '' ? {} : parseJson(req.body);
    if (!isPlainObject(options)) throw badRequest('error decoding DeleteOptions');
    const existing = this.existing(PODS, namespace, name);
    const pre = isPlainObject(options.preconditions) ? options.preconditions : {};
    const meta = existing.metadata ?? {};
    for (const field of ['uid', 'resourceVersion'] as const) {
      const wanted = pre[field];
      if (wanted !== undefined && wanted !== null && wanted !== meta[field]) {
        throw new ApiError({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `Precondition failed: ${field.charAt(0).toUpperCase() + field.slice(1)} in precondition: ${String(wanted)}, ${field.charAt(0).toUpperCase() + field.slice(1)} in object meta: ${String(meta[field])}`,
          reason: 'Conflict',
          details: { name, kind: 'pods' },
          code: 409,
        });
      }
    }
    this.store.delete(PODS.resource, namespace, name);
    return {
      status: 200,
      body: {
        ...existing,
        metadata: { ...meta, deletionTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      },
    };
  }

  private create(
    req: ApiRequest,
    info: ResourceInfo,
    namespace: string,
    validate: Validator,
  ): ApiResult {
    const obj = decodeObject(info, req);
    checkNamespace(obj, namespace);
    // The storage layer refuses this outright, as an internal error, before any validation.
    if ((obj.metadata?.resourceVersion ?? '') !== '') {
      throw new ApiError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'resourceVersion should not be set on objects to be created',
        reason: 'InternalError',
        code: 500,
      });
    }
    validate(info, obj, namespace);
    const name = String(obj.metadata?.name);
    if (this.store.get(info.resource, namespace, name) !== undefined) {
      throw alreadyExists(info, name);
    }
    return { status: 201, body: this.store.write(info.resource, namespace, obj) };
  }

  private existing(info: ResourceInfo, namespace: string, name: string): KubeObject {
    const found = this.store.get(info.resource, namespace, name);
    if (found === undefined) throw notFound(info, name);
    return found;
  }

  private item(
    req: ApiRequest,
    info: ResourceInfo,
    namespace: string,
    name: string,
    methods: readonly string[],
    validate: Validator,
    subresource: { keep?: 'status' | 'spec' } = {},
  ): ApiResult {
    if (!methods.includes(req.method)) throw methodNotAllowed(req.method);
    let next: KubeObject;
    if (req.method === 'PATCH') {
      // The media type is checked by the handler, before the object is even looked up.
      const type = patchType(req.contentType);
      const existing = this.existing(info, namespace, name);
      next = applyPatch(type, existing, parseJson(req.body), req.query);
      checkTypeMeta(info, next);
      checkName(next, name);
      // A patch that sets metadata.resourceVersion makes it a precondition.
      if (next.metadata?.resourceVersion !== existing.metadata?.resourceVersion) {
        throw conflict(info, name);
      }
      // What the strategy resets silently: the agent must use the right endpoint for each part.
      if (subresource.keep === 'status') next = { ...next, status: existing['status'] };
      if (subresource.keep === 'spec') {
        next = { ...next, spec: existing['spec'], metadata: existing.metadata };
      }
    } else if (req.method === 'PUT') {
      next = decodeObject(info, req);
      checkNamespace(next, namespace);
      checkName(next, name);
      const existing = this.existing(info, namespace, name);
      // Leases and Nodes allow unconditional updates: no resourceVersion means last write wins.
      const rv = next.metadata?.resourceVersion ?? '';
      if (rv !== '' && rv !== existing.metadata?.resourceVersion) throw conflict(info, name);
    } else {
      return { status: 200, body: this.existing(info, namespace, name) };
    }
    validate(info, next, namespace);
    return { status: 200, body: this.store.write(info.resource, namespace, next) };
  }
}
