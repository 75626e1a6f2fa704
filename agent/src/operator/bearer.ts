import { createHash, timingSafeEqual } from 'node:crypto';

/** A secret as it is kept for comparing: its digest, of equal length whatever was sent. */
export function bearerDigest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/**
 * Whether an Authorization header is `Bearer <secret>` for the digest, in constant time. The
 * scheme name is case-insensitive and may be followed by several spaces (RFC 9110 §11.1).
 */
export function bearerMatches(expected: Buffer, authorization: string | undefined): boolean {
  const given = /^bearer +(\S+)$/i.exec(authorization ?? '')?.[1];
  return given !== undefined && timingSafeEqual(bearerDigest(given), expected);
}

/** The Authorization header value a client sends with a secret. */
export function bearer(secret: string): string {
  return `Bearer ${secret}`;
}
