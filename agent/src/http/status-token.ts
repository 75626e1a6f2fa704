import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError } from '../config/load.js';
import { bearerDigest, bearerMatches } from '../operator/bearer.js';

/**
 * The bearer token `/status` asks for, read from the file FARM_STATUS_TOKEN_FILE
 * names (a Secret mounted into the pod). Only the file's name is a setting,
 * so `farm-agent config`, the log and the Lease never carry the token itself.
 */
export function readStatusToken(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(
      `FARM_STATUS_TOKEN_FILE=${JSON.stringify(path)}: ${(err as Error).message}`,
    );
  }
  // Header values cannot carry white space or control characters inside a token.
  if (!/^[\x21-\x7e]{16,4096}$/.test(token)) {
    throw new ConfigError(
      `FARM_STATUS_TOKEN_FILE=${JSON.stringify(path)}: expected one token of 16 to 4096 printable ASCII characters`,
    );
  }
  return token;
}

/** A preHandler answering 401 unless the request carries `Authorization: Bearer <token>`. */
export function requireBearer(
  token: string,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = bearerDigest(token);
  return async (request, reply) => {
    if (bearerMatches(expected, request.headers.authorization)) return;
    await reply.code(401).header('www-authenticate', 'Bearer realm="farm-agent"').send({
      error: 'this endpoint needs Authorization: Bearer <the token in FARM_STATUS_TOKEN_FILE>',
    });
  };
}
