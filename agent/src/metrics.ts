import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Gauge } from 'prom-client';

/**
 * How often the event loop's delay is sampled. prom-client's default, 10 ms, wakes the loop
 * 100 times a second, which was most of an idle agent's CPU (~0.8 % of a core here, several
 * times that on a Pi); once a second costs about what a bare Node process does. A stall still
 * shows: the sample due during it comes late by what is left of it.
 */
export const LOOP_SAMPLE_MS = 1000;

/**
 * Node's delay histogram records the whole time between two samples, the sampling interval
 * included; these statistics are reported without it, as the lag proper (the interval's
 * spread, stddev, needs no shift).
 */
const SHIFTED = ['min', 'max', 'mean', 'p50', 'p90', 'p99'].map(
  (stat) => `farm_nodejs_eventloop_lag_${stat}_seconds`,
);

/** One registry per agent, so tests can run several agents in one process. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({
    register: registry,
    prefix: 'farm_',
    eventLoopMonitoringPrecision: LOOP_SAMPLE_MS,
  });
  for (const name of SHIFTED) {
    const gauge = registry.getSingleMetric(name) as Gauge | undefined;
    if (gauge !== undefined) reportBeyondInterval(gauge);
  }
  return registry;
}

function reportBeyondInterval(gauge: Gauge): void {
  const get = gauge.get.bind(gauge);
  gauge.get = async () => {
    const metric = await get();
    return { ...metric, values: metric.values.map((v) => ({ ...v, value: lagBeyond(v.value) })) };
  };
}

/** A sample on time (or none yet: a mean of NaN) is no lag. */
function lagBeyond(seconds: number): number {
  const lag = seconds - LOOP_SAMPLE_MS / 1000;
  return lag > 0 ? lag : 0;
}
