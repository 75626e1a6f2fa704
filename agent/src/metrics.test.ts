import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, LOOP_SAMPLE_MS } from './metrics.js';

describe('createMetricsRegistry', () => {
  it('reports the event loop’s lag beyond its once-a-second sampling', async () => {
    const registry = createMetricsRegistry();
    // Node's histogram records the time between two samples, so the first comes at the second.
    await new Promise((resolve) => setTimeout(resolve, 2 * LOOP_SAMPLE_MS + 300));
    const text = await registry.metrics();
    const stat = (name: string) =>
      Number(new RegExp(`^farm_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1]);
    // Unshifted, an idle loop would read the interval itself (1 s).
    expect(stat('min')).toBeGreaterThanOrEqual(0);
    expect(stat('min')).toBeLessThan(0.5);
    expect(stat('p50')).toBeLessThan(0.5);
    expect(stat('stddev')).toBeLessThan(0.5);
  });
});
