/**
 * Kubernetes API failures as the agent needs to see them: an answer's status and Status body, or
 * whatever the transport threw, normalised to {status, reason, retryable, Retry-After}.
 */
import http from 'node:http';
import type { V1Status } from '@kubernetes/client-node';

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
export function errorFromStatus(code: number, body: unknown, retryAfter?: string): KubeApiError {
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

/** Any failure of a call: a KubeApiError as it is, else what the transport threw. */
export function normaliseError(e: unknown): KubeApiError {
  if (e instanceof KubeApiError) return e;
  const err = e as { code?: string; message?: string };
  const message = err.message ?? String(e);
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

/** Whether `e` is an API answer with this status (and, if given, this Status reason). */
export function isStatus(e: unknown, status: number, reason?: string): boolean {
  return (
    e instanceof KubeApiError &&
    e.status === status &&
    (reason === undefined || e.reason === reason)
  );
}

/** No answer, or an answer that says the server (not the request) is the problem. */
export function serverAway(e: KubeApiError): boolean {
  return e.status === undefined || e.status >= 500 || e.status === 429;
}
