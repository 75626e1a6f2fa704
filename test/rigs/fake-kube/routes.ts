/**
 * The handful of kube-apiserver endpoints farm-agent uses, with the real server's order of
 * checks: media type (415), decoding (400), existence (404), preconditions (409), validation (422).
 */
import { applyPatch, patchType } from './patch.js';
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
  constructor(private readonly store: ObjectStore) {}

  handle(req: ApiRequest): ApiResult {
    const p = req.path;
    let m: RegExpMatchArray | null;
    // farm-agent neither lists nor watches (its RBAC grants neither): refused, not answered
    // with a guess, so that a client starting to do so fails its tests at once.
    if (req.query.has('watch') || /^\/apis?\/(.+\/)?watch\//.test(p)) {
      throw badRequest('watch is not modelled by the fake: farm-agent never watches');
    }
    if (p === '/api/v1/nodes') {
      throw badRequest('listing Nodes is not modelled by the fake: farm-agent reads only its own');
    }
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
    throw noRoute();
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
