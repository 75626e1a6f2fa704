import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface ClusterServerOptions {
  logger: Logger;
  registry: Registry;
  /** The agent's whole picture, served as JSON at /status. */
  status: () => unknown;
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
  });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
  app.get('/status', async () => options.status());
  return app;
}
