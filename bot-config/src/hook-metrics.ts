/** Counts and times every hook call, labelled by hook (never by URL) and status. */
import type { Counter, Histogram, Registry } from 'prom-client';
import type { Hook } from './hook-schemas.js';

/**
 * At most this many calls are kept before `register`: start-up answers a handful, and a
 * server whose metrics are never registered must not grow without end.
 */
const EARLY_LIMIT = 1000;

/** One answered call: hook, HTTP status code, seconds to answer. */
type Answered = [hook: Hook | 'unknown', code: number, seconds: number];

interface Series {
  requests: Counter<'hook' | 'code'>;
  duration: Histogram<'hook'>;
}

/**
 * The hook server's series, registered apart from building the server: the agent's hook
 * listener answers before prom-client is loaded (~60-90 ms of start-up), so the calls answered
 * until `register` (the first second of start-up, before any bot runs) are kept and counted then.
 */
export class HookMetrics {
  private series: Series | undefined;
  private readonly early: Answered[] = [];

  /** Creates the series in `registry`, loading prom-client, and counts the calls kept so far. */
  async register(registry: Registry): Promise<void> {
    const { Counter, Histogram } = await import('prom-client');
    this.series = {
      requests: new Counter({
        name: 'farm_hook_requests_total',
        help: 'Hook calls from Swarming bots, by hook and HTTP status code.',
        labelNames: ['hook', 'code'],
        registers: [registry],
      }),
      duration: new Histogram({
        name: 'farm_hook_duration_seconds',
        help: 'Time to answer a hook call (on_before_task includes the wait for the device).',
        labelNames: ['hook'],
        buckets: [0.005, 0.02, 0.1, 0.5, 2, 10, 60, 300],
        registers: [registry],
      }),
    };
    for (const call of this.early.splice(0)) this.count(...call);
  }

  /** One answered call, labelled by a known hook name, never by a caller-chosen URL. */
  count(...[hook, code, seconds]: Answered): void {
    if (this.series === undefined) {
      if (this.early.length < EARLY_LIMIT) this.early.push([hook, code, seconds]);
      return;
    }
    this.series.requests.inc({ hook, code: String(code) });
    this.series.duration.observe({ hook }, seconds);
  }
}
