/**
 * The bearer token sent with each request. A token file (the service account's, or a kubeconfig
 * tokenFile) is re-read as client-go's NewCachedFileTokenSource does: bound tokens rotate (the
 * kubelet refreshes the projected file at 80 % of the token's life), so one read at start-up
 * stops working within the hour.
 */
import { readFileSync } from 'node:fs';
import { errorMessage, systemClock, type Clock } from '@farm-agent/bot-config/lib';
import { KubeApiError } from './kube-errors.js';

/** client-go: a read is good for a minute, less 10 s of leeway. */
export const TOKEN_FILE_REREAD_MS = 60_000 - 10_000;

export interface BearerToken {
  /** The token for a request about to be sent; undefined: send none. */
  current(): string | undefined;
  /** A request sent at `sentAt` was answered 401: read the file again before the next one. */
  rejected(sentAt: number): void;
}

export const noToken: BearerToken = { current: () => undefined, rejected: () => undefined };

export function fixedToken(token: string): BearerToken {
  return { current: () => token, rejected: () => undefined };
}

export class TokenFile implements BearerToken {
  private token: string | undefined;
  private readAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly path: string,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {}

  current(): string {
    const now = this.clock.now();
    if (this.token !== undefined && now < this.readAt + TOKEN_FILE_REREAD_MS) return this.token;
    let read: string;
    try {
      read = readFileSync(this.path, 'utf8').trim();
      if (read === '') throw new Error('empty');
    } catch (e) {
      // As client-go: a file that cannot be read now (mid-rotation) leaves the last token in use.
      if (this.token !== undefined) return this.token;
      throw new KubeApiError(
        undefined,
        'TokenUnreadable',
        true,
        `token file ${this.path}: ${errorMessage(e)}`,
      );
    }
    this.token = read;
    this.readAt = now;
    return read;
  }

  rejected(sentAt: number): void {
    // Only a token read before that request: one read since is the newest there is.
    if (this.readAt <= sentAt) this.readAt = Number.NEGATIVE_INFINITY;
  }
}
