import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { lazyCompilers } from './lazy-compilers.js';
import { requireBearer } from './status-token.js';

export interface ClusterServerOptions {
  logger: Logger;
  registry: Registry;
  /** The agent's whole picture, served as JSON at /status. */
  status: () => unknown;
  /** When set, /status answers only requests bearing it (FARM_STATUS_TOKEN_FILE). */
  statusToken?: string;
}

/**
 * The cluster-facing listener: probes, Prometheus scrapes and `/status` for
 * people and the CLI. Routes that act on devices are added by their owners.
 */
export function createClusterServer(options: ClusterServerOptions): FastifyInstance {
  // Probes and scrapes arrive every few seconds for months: no per-request log lines.
  const app = Fastify({
    loggerInstance: options.logger.child({ listener: 'cluster' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // As the hook server: start-up does not wait for every route's schema to compile.
    schemaController: { compilersFactory: lazyCompilers },
  });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
  const preHandler = options.statusToken === undefined ? [] : [requireBearer(options.statusToken)];
  app.get('/status', { preHandler }, async () => options.status());
  return app;
}
