/**
 * Lists as kube-apiserver serves them: a `<Kind>List` with the store's resourceVersion, items in
 * key order without their TypeMeta, equality-based label selectors, and `limit`/`continue`
 * paging. What the fake does not model (field selectors, set-based selectors) is refused with a
 * 400 rather than ignored, so a client that starts relying on it fails its tests at once.
 */
import { badRequest, type ResourceInfo } from './status.js';
import type { KubeObject } from './validation.js';

type Requirement = { key: string; op: '=' | '!=' | 'exists' | '!exists'; value?: string };

/** labels.Parse for the equality-based subset: `a=b`, `a==b`, `a!=b`, `a`, `!a`. */
export function parseLabelSelector(text: string): Requirement[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const s = part.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/.exec(s))) {
      return { key: m[1] ?? '', op: m[2] === '!=' ? '!=' : '=', value: m[3] ?? '' };
    }
    if ((m = /^(!?)([A-Za-z0-9._/-]+)$/.exec(s))) {
      return { key: m[2] ?? '', op: m[1] === '!' ? '!exists' : 'exists' };
    }
    throw badRequest(
      `unable to parse requirement: "${s}" (set-based selectors are not modelled by the fake)`,
    );
  });
}

function matches(obj: KubeObject, requirements: Requirement[]): boolean {
  const labels = (obj.metadata?.labels ?? {}) as Record<string, string>;
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    if (r.op === 'exists') return has;
    if (r.op === '!exists') return !has;
    if (r.op === '=') return has && labels[r.key] === r.value;
    return !has || labels[r.key] !== r.value;
  });
}

interface ContinueToken {
  rv: number;
  after: string;
}

function decodeContinue(token: string): ContinueToken {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (typeof value.rv === 'number' && typeof value.after === 'string') return value;
  } catch {
    // answered below
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion');
}

/**
 * One page of a list. A continue token names the last key served; objects written since are
 * served as they are now (the real server would serve the snapshot of the first page; the
 * difference does not matter to a client that re-lists periodically).
 */
export function listPage(
  info: ResourceInfo,
  objects: { key: string; object: KubeObject }[],
  query: URLSearchParams,
  resourceVersion: number,
): { status: number; body: unknown } {
  if ((query.get('fieldSelector') ?? '') !== '') {
    throw badRequest('fieldSelector is not modelled by the fake');
  }
  const requirements = parseLabelSelector(query.get('labelSelector') ?? '');
  const limitText = query.get('limit');
  const limit = limitText === null ? 0 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0) {
    throw badRequest(`invalid limit: ${String(limitText)}`);
  }
  const token = query.get('continue');
  const start = token === null || token === '' ? undefined : decodeContinue(token);
  const selected = objects
    .filter((o) => start === undefined || o.key > start.after)
    .filter((o) => matches(o.object, requirements))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const page = limit > 0 ? selected.slice(0, limit) : selected;
  const more = page.length < selected.length;
  const last = page[page.length - 1];
  const rv = start?.rv ?? resourceVersion;
  const items = page.map(({ object }) => {
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = object;
    return rest;
  });
  return {
    status: 200,
    body: {
      kind: `${info.kind}List`,
      apiVersion: info.group === '' ? 'v1' : `${info.group}/v1`,
      metadata: {
        resourceVersion: String(rv),
        ...(more && last !== undefined
          ? {
              continue: Buffer.from(JSON.stringify({ rv, after: last.key })).toString('base64url'),
              remainingItemCount: selected.length - page.length,
            }
          : {}),
      },
      items,
    },
  };
}
