/** Counts and times every hook call, labelled by hook (never by URL) and status. */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { hookOf } from './hook-schemas.js';

export function instrumentHooks(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: 'farm_hook_requests_total',
    help: 'Hook calls from Swarming bots, by hook and HTTP status code.',
    labelNames: ['hook', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'farm_hook_duration_seconds',
    help: 'Time to answer a hook call (on_before_task includes the wait for the device).',
    labelNames: ['hook'],
    buckets: [0.005, 0.02, 0.1, 0.5, 2, 10, 60, 300],
    registers: [registry],
  });
  // Callback style: a promise per call costs more than counting it.
  app.addHook('onResponse', (request, reply, done) => {
    const hook = hookOf(request);
    requests.inc({ hook, code: String(reply.statusCode) });
    duration.observe({ hook }, reply.elapsedTime / 1000);
    done();
  });
}
