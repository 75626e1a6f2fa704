import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/**
 * Real bot state nests four or five levels (`disks./.free_mb`); this leaves
 * room while keeping every body far from the recursion limits of
 * `JSON.stringify`, which answers and `/status` serialize it with (5,000
 * levels overflow the stack).
 */
export const MAX_BODY_DEPTH = 32;

/** A refused call: the error handler answers it with this status and message. */
export class HookRefusal extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Parses JSON bodies as Fastify does (prototype-poisoning checks included)
 * and refuses any nested deeper than `maxDepth`, before a handler or a
 * recorder ever sees it.
 */
export function limitJsonDepth(app: FastifyInstance, maxDepth = MAX_BODY_DEPTH): void {
  // Fastify's own parser is callback-style; its type also allows a promise-returning one.
  const parse = app.getDefaultJsonParser('error', 'error') as (
    request: FastifyRequest,
    body: string,
    done: (err: Error | null, value?: unknown) => void,
  ) => void;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, String(body), (err, value) => {
      if (err) return done(err, undefined);
      if (deeperThan(value, maxDepth)) {
        return done(new HookRefusal(400, `body nests deeper than ${maxDepth} levels`), undefined);
      }
      done(null, value);
    });
  });
}

/**
 * Whether `value` has arrays or objects nested more than `max` levels. Recursive, but never
 * deeper than `max` + 1 calls, so any depth is safe; no work list to allocate on every body.
 */
export function deeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (max === 0) return true;
  if (Array.isArray(value)) return value.some((item) => deeperThan(item, max - 1));
  for (const key in value) {
    if (deeperThan((value as Record<string, unknown>)[key], max - 1)) return true;
  }
  return false;
}

/**
 * A preHandler that refuses a bot id this node does not run: nothing a
 * caller names in `X-Farm-Bot-Id` may create per-bot records or metric
 * labels unless it is one of our bots.
 */
export function refuseUnknownBot(
  knows: (botId: string) => boolean,
  botIdOf: (request: FastifyRequest) => string,
): (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void {
  // Callback style: a promise per call costs more than the check.
  return (request, _reply, done) => {
    const botId = botIdOf(request);
    done(knows(botId) ? undefined : new HookRefusal(404, `no bot "${botId}" runs on this node`));
  };
}

/** Undefined lets a hook call through; a string refuses it with 403 and says why. */
export type AuthorizeCaller<H extends string> = (
  request: FastifyRequest,
  botId: string,
  hook: H,
) => Promise<string | undefined>;

/**
 * An onRequest hook that asks `authorize` about every call of `hook` naming one
 * of this node's bots, before the body is even read: a stranger's body is
 * nobody's business. Other ids pass untouched, so a missing, malformed or
 * repeated header still gets its 400 from the header schema and an unknown
 * bot its 404 from refuseUnknownBot.
 */
export function refuseStrangers<H extends string>(
  authorize: AuthorizeCaller<H>,
  hook: H,
  botIdHeader: string,
  knows: (botId: string) => boolean,
  logger: Pick<Logger, 'warn'>,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    const botId = request.headers[botIdHeader];
    if (typeof botId !== 'string' || !knows(botId)) return;
    const refused = await authorize(request, botId, hook);
    if (refused === undefined) return;
    logger.warn({ hook, botId, reason: refused }, 'hook caller refused');
    await reply.code(403).send({ error: refused });
  };
}
