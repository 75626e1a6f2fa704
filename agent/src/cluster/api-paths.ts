/**
 * Kubernetes REST paths, as kube-apiserver routes them: the core group under /api/v1, every
 * other group under /apis/<group>/<version>; names and query values escaped. Pure.
 */

export interface ResourceRef {
  /** `v1` for the core group, else `<group>/<version>`: `coordination.k8s.io/v1`. */
  groupVersion: string;
  /** Plural, lower case: `leases`. */
  resource: string;
  /** For namespaced resources. */
  namespace?: string;
  name?: string;
  /** `status` for nodes/status. */
  subresource?: string;
}

export function resourcePath(ref: ResourceRef): string {
  const root = ref.groupVersion === 'v1' ? '/api/v1' : `/apis/${ref.groupVersion}`;
  const parts = [root];
  if (ref.namespace !== undefined) parts.push('namespaces', encodeURIComponent(ref.namespace));
  parts.push(ref.resource);
  if (ref.name !== undefined) parts.push(encodeURIComponent(ref.name));
  if (ref.subresource !== undefined) parts.push(ref.subresource);
  return parts.join('/');
}

/** `path?k=v&...` with the defined values, in the order given; `path` alone if there are none. */
export function withQuery(
  path: string,
  query: Record<string, string | number | undefined>,
): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.append(key, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}
