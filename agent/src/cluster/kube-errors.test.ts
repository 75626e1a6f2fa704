import { describe, expect, it } from 'vitest';
import {
  errorFromStatus,
  isStatus,
  KubeApiError,
  normaliseError,
  serverAway,
} from './kube-errors.js';

/** Pure cases of the error seam; kube-client.test.ts sees the same over real HTTP. */
describe('errorFromStatus and normaliseError', () => {
  const status = (code: number, reason: string): string =>
    JSON.stringify({ kind: 'Status', code, reason, message: `${reason} says the server` });

  it('a Status body gives its reason and message; AlreadyExists is final, Conflict is not', () => {
    const exists = errorFromStatus(409, status(409, 'AlreadyExists'));
    expect(exists).toMatchObject({
      status: 409,
      reason: 'AlreadyExists',
      retryable: false,
      message: 'AlreadyExists says the server',
    });
    const conflict = errorFromStatus(409, status(409, 'Conflict'));
    expect(conflict).toMatchObject({ reason: 'Conflict', retryable: true });
  });

  it('a body that is not a Status falls back to the HTTP reason; Retry-After is read', () => {
    const busy = errorFromStatus(429, '<html>', '7');
    expect(busy).toMatchObject({
      status: 429,
      reason: 'Too Many Requests',
      retryable: true,
      retryAfterSeconds: 7,
    });
    const junk = errorFromStatus(503, '{}', 'soon');
    expect(junk.retryAfterSeconds).toBeUndefined();
  });

  it('transport failures by code; TLS and unknown ones are not retryable', () => {
    const of = (code: string): KubeApiError =>
      normaliseError(Object.assign(new Error(code), { code }));
    expect(of('ECONNREFUSED')).toMatchObject({ reason: 'ConnectionRefused', retryable: true });
    expect(of('EHOSTUNREACH')).toMatchObject({ reason: 'NetworkError', retryable: true });
    expect(of('CERT_HAS_EXPIRED')).toMatchObject({ reason: 'TLSError', retryable: false });
    expect(of('EWHATEVER')).toMatchObject({ reason: 'Unknown', retryable: false });
    const own = new KubeApiError(404, 'NotFound', false, 'm');
    expect(normaliseError(own)).toBe(own);
  });
});

describe('isStatus and serverAway', () => {
  it('isStatus matches status and, when given, reason; never a non-KubeApiError', () => {
    const e = new KubeApiError(409, 'AlreadyExists', false, 'm');
    expect(isStatus(e, 409)).toBe(true);
    expect(isStatus(e, 409, 'AlreadyExists')).toBe(true);
    expect(isStatus(e, 409, 'Conflict')).toBe(false);
    expect(isStatus({ status: 409 }, 409)).toBe(false);
  });

  it('the server is away without an answer, on 5xx and on 429; a 4xx is an answer', () => {
    const at = (s: number | undefined): boolean => serverAway(new KubeApiError(s, 'r', true, 'm'));
    expect([undefined, 500, 503, 429].map(at)).toEqual([true, true, true, true]);
    expect([400, 403, 404, 409].map(at)).toEqual([false, false, false, false]);
  });
});
