import { collectDefaultMetrics, Registry } from 'prom-client';

/** One registry per agent, so tests can run several agents in one process. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'farm_' });
  return registry;
}
