/**
 * TokenReview and SubjectAccessReview as kube-apiserver answers them: 201 with the review and
 * its status; a review that cannot be evaluated is a 422 with the real field errors. Identities
 * (token → user) and grants (who may do what) are set by the test.
 */
import { invalid, invalidObject, required, type ResourceInfo } from './status.js';
import { isPlainObject, type KubeObject } from './validation.js';

export const TOKEN_REVIEWS: ResourceInfo = {
  group: 'authentication.k8s.io',
  resource: 'tokenreviews',
  kind: 'TokenReview',
  namespaced: false,
};
export const ACCESS_REVIEWS: ResourceInfo = {
  group: 'authorization.k8s.io',
  resource: 'subjectaccessreviews',
  kind: 'SubjectAccessReview',
  namespaced: false,
};

export interface UserInfo {
  username: string;
  groups?: string[];
}

/** One allowed (user or group, verb, API group, resource, namespace) tuple; '*' matches all. */
export interface Grant {
  user?: string;
  group?: string;
  verb: string;
  apiGroup: string;
  resource: string;
  /** Unset: any namespace (a ClusterRoleBinding). */
  namespace?: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function tokenReview(review: KubeObject, identities: ReadonlyMap<string, UserInfo>) {
  const spec = isPlainObject(review.spec) ? review.spec : {};
  const token = str(spec.token);
  if (token === '') throw invalidObject(TOKEN_REVIEWS, '', [required('spec.token')]);
  const user = identities.get(token);
  return {
    status: 201,
    body: {
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status:
        user === undefined
          ? { user: {}, error: '[invalid bearer token, token lookup failed]' }
          : {
              authenticated: true,
              user: { username: user.username, groups: [...(user.groups ?? [])] },
            },
    },
  };
}

export function accessReview(review: KubeObject, grants: readonly Grant[]) {
  const spec = isPlainObject(review.spec) ? review.spec : {};
  const attrs = isPlainObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const errors = [];
  if ((attrs === undefined) === !isPlainObject(spec.nonResourceAttributes)) {
    errors.push(
      invalid(
        'spec.resourceAttributes',
        '',
        'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ),
    );
  }
  const user = str(spec.user);
  const groups = Array.isArray(spec.groups) ? spec.groups.map(str) : [];
  if (user === '' && groups.length === 0) {
    errors.push(invalid('spec.user', '', 'at least one of user or group must be specified'));
  }
  if (errors.length > 0) throw invalidObject(ACCESS_REVIEWS, '', errors);
  const allowed =
    attrs !== undefined &&
    grants.some(
      (g) =>
        (g.user === undefined || g.user === user) &&
        (g.group === undefined || groups.includes(g.group)) &&
        (g.verb === '*' || g.verb === str(attrs.verb)) &&
        (g.apiGroup === '*' || g.apiGroup === str(attrs.group)) &&
        (g.resource === '*' || g.resource === str(attrs.resource)) &&
        (g.namespace === undefined || g.namespace === str(attrs.namespace)),
    );
  return {
    status: 201,
    body: {
      kind: 'SubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: allowed ? { allowed: true, reason: 'granted by the test' } : { allowed: false },
    },
  };
}
