/**
 * Who may change state through the gate, as kube-rbac-proxy decides: the caller's bearer token
 * goes to a TokenReview (who is this?) and the identity to a SubjectAccessReview for the
 * Kubernetes permission the route stands for (may they?). Answers are cached for a minute, so a
 * burst of requests costs two API calls, not two per request. Reading and waking never come here.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { errorMessage, type Clock } from '@farm-agent/bot-config/lib';
import type { V1ResourceAttributes } from '@kubernetes/client-node';
import type { GateKubeApi, Identity } from './gate-kube.js';

export const REVIEW_CACHE_MS = 60_000;
const CACHE_MAX = 1000;

export type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export class ReviewGuard {
  private readonly cache = new Map<string, { at: number; value: Identity | boolean | undefined }>();

  constructor(
    private readonly api: Pick<GateKubeApi, 'reviewToken' | 'mayDo'>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** An onRequest hook allowing only callers with this permission. */
  requires(attributes: V1ResourceAttributes): Guard {
    const what = `${attributes.verb ?? ''} ${attributes.resource ?? ''}${attributes.name ? `/${attributes.name}` : ''}`;
    return async (request, reply) => {
      const header = request.headers.authorization ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      if (token === undefined) {
        await reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: `this needs a Kubernetes bearer token allowed to ${what}` });
        return;
      }
      try {
        const who = await this.cached(`t:${token}`, () => this.api.reviewToken(token));
        if (who === undefined || typeof who === 'boolean') {
          await reply.code(401).send({ error: 'the Kubernetes API does not know this token' });
          return;
        }
        const allowed = await this.cached(`a:${who.username}:${JSON.stringify(attributes)}`, () =>
          this.api.mayDo(who, attributes),
        );
        if (allowed !== true) {
          await reply.code(403).send({ error: `${who.username} may not ${what}` });
        }
      } catch (err) {
        this.logger.warn({ err: errorMessage(err) }, 'cannot review a caller');
        await reply
          .code(503)
          .send({ error: `cannot check the caller with the Kubernetes API: ${errorMessage(err)}` });
      }
    };
  }

  private async cached<T extends Identity | boolean | undefined>(
    key: string,
    fetch: () => Promise<T>,
  ): Promise<T> {
    const now = this.clock.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && now - hit.at < REVIEW_CACHE_MS) return hit.value as T;
    const value = await fetch();
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(key, { at: now, value });
    return value;
  }
}
