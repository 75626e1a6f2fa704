/**
 * PATCH bodies as kube-apiserver treats them: the Content-Type picks the patch format (anything
 * else is 415), and the body must have that format's shape (400), before anything is applied.
 */
import { ApiError, badRequest, unsupportedMediaType } from './status.js';
import { isPlainObject, jsonKind, type KubeObject } from './validation.js';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

/** The media type without parameters (`; charset=utf-8`), or 415 if it is no patch type. */
export function patchType(contentType: string | undefined): PatchType {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const found = PATCH_TYPES.find((t) => t === media);
  if (found === undefined) throw unsupportedMediaType(PATCH_TYPES);
  return found;
}

/** RFC 7386: objects merge key by key, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) Reflect.deleteProperty(result, key);
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * Lists that strategic merge patch merges element by element, by their merge key (the
 * `patchMergeKey` of the Go types); every other list is replaced, as in a merge patch.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  'status.conditions': 'type',
  'status.addresses': 'type',
};

/** Strategic merge patch for the lists with merge keys farm-agent touches, merge patch otherwise. */
export function strategicMergePatch(target: unknown, patch: unknown, path = ''): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    const at = path === '' ? key : `${path}.${key}`;
    const mergeKey = MERGE_KEYS[at];
    if (value === null) Reflect.deleteProperty(result, key);
    else if (mergeKey !== undefined && Array.isArray(value)) {
      result[key] = mergeByKey(result[key], value, mergeKey, at);
    } else result[key] = strategicMergePatch(result[key], value, at);
  }
  return result;
}

function mergeByKey(target: unknown, patch: unknown[], mergeKey: string, at: string): unknown[] {
  const merged = Array.isArray(target) ? [...target] : [];
  for (const element of patch) {
    if (!isPlainObject(element) || typeof element[mergeKey] !== 'string') {
      throw badRequest(`map: ${at} elements must be objects with the merge key "${mergeKey}"`);
    }
    const index = merged.findIndex(
      (old) => isPlainObject(old) && old[mergeKey] === element[mergeKey],
    );
    if (index === -1) merged.push(element);
    else merged[index] = strategicMergePatch(merged[index], element, at);
  }
  return merged;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** 422 as the real server answers a JSON patch that does not apply to the object. */
function patchFailed(message: string): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Invalid',
    code: 422,
  });
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw patchFailed(`JSON pointer must start with "/": ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
}

type Container = Record<string, unknown> | unknown[];

/** The parent container of a pointer and the last token, or 422 if the parent is missing. */
function locate(doc: unknown, path: string): [Container, string] {
  const tokens = pointer(path);
  const last = tokens.pop();
  if (last === undefined) throw patchFailed('replacing the whole document is not supported');
  let node: unknown = doc;
  for (const t of tokens) {
    node = Array.isArray(node) ? node[Number(t)] : isPlainObject(node) ? node[t] : undefined;
    if (node === undefined) throw patchFailed(`doc is missing path: "${path}"`);
  }
  if (!Array.isArray(node) && !isPlainObject(node)) {
    throw patchFailed(`doc is missing path: "${path}"`);
  }
  return [node, last];
}

function read(doc: unknown, path: string): unknown {
  const [parent, key] = locate(doc, path);
  const value = Array.isArray(parent) ? parent[Number(key)] : parent[key];
  if (value === undefined) throw patchFailed(`doc is missing key: ${path}`);
  return value;
}

function add(doc: unknown, path: string, value: unknown): void {
  const [parent, key] = locate(doc, path);
  if (Array.isArray(parent)) parent.splice(key === '-' ? parent.length : Number(key), 0, value);
  else parent[key] = value;
}

function remove(doc: unknown, path: string): unknown {
  const value = read(doc, path);
  const [parent, key] = locate(doc, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else Reflect.deleteProperty(parent, key);
  return value;
}

/** RFC 6902 on a deep copy of the object. */
function jsonPatch(target: KubeObject, ops: JsonPatchOp[]): KubeObject {
  const doc = structuredClone(target);
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        add(doc, op.path, op.value);
        break;
      case 'remove':
        remove(doc, op.path);
        break;
      case 'replace':
        remove(doc, op.path);
        add(doc, op.path, op.value);
        break;
      case 'move':
        add(doc, op.path, remove(doc, op.from ?? ''));
        break;
      case 'copy':
        add(doc, op.path, structuredClone(read(doc, op.from ?? '')));
        break;
      case 'test':
        if (JSON.stringify(read(doc, op.path)) !== JSON.stringify(op.value)) {
          throw patchFailed(`testing value ${op.path} failed: test failed`);
        }
        break;
      default:
        throw patchFailed(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

function isOp(value: unknown): value is JsonPatchOp {
  return isPlainObject(value) && typeof value.op === 'string' && typeof value.path === 'string';
}

/**
 * Applies a PATCH body of the given type to the stored object. Strategic merge patch merges the
 * lists with merge keys in MERGE_KEYS (a Node's conditions and addresses) by key, and is a merge
 * patch elsewhere; `$patch` directives are not modelled.
 */
export function applyPatch(
  type: PatchType,
  target: KubeObject,
  body: unknown,
  query: URLSearchParams,
): KubeObject {
  switch (type) {
    case 'application/json-patch+json':
      if (!Array.isArray(body)) {
        throw badRequest(
          `json: cannot unmarshal ${jsonKind(body)} into Go value of type jsonpatch.Patch`,
        );
      }
      if (!body.every(isOp)) {
        throw badRequest('json: cannot unmarshal operation: missing "op" or "path"');
      }
      return jsonPatch(target, body);
    case 'application/apply-patch+yaml':
      // Server-side apply needs a field manager to record ownership under.
      if ((query.get('fieldManager') ?? '') === '') {
        throw new ApiError({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message:
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
          reason: 'Invalid',
          details: {
            group: 'meta.k8s.io',
            kind: 'PatchOptions',
            causes: [
              {
                reason: 'FieldValueRequired',
                message: 'Required value: is required for apply patch',
                field: 'fieldManager',
              },
            ],
          },
          code: 422,
        });
      }
      return mergeObject(body, target);
    case 'application/merge-patch+json':
      return mergeObject(body, target);
    case 'application/strategic-merge-patch+json':
      mergeObject(body, target);
      return strategicMergePatch(target, body) as KubeObject;
  }
}

function mergeObject(body: unknown, target: KubeObject): KubeObject {
  if (!isPlainObject(body)) {
    throw badRequest(
      `json: cannot unmarshal ${jsonKind(body)} into Go value of type map[string]interface {}`,
    );
  }
  return mergePatch(target, body) as KubeObject;
}
