import type { EventsV1Event } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { eventBody, EventQueue } from './event-queue.js';
import { KubeApiError } from './kube-errors.js';

/** The queue without an API: `create` is a function the test controls. */
function queue(maxPending = 3): { q: EventQueue; registry: Registry } {
  const registry = new Registry();
  const q = new EventQueue({
    node: 'pi-1',
    podName: 'farm-agent-abc',
    dedupeWindowMs: 60_000,
    maxPending,
    registry,
    logger: pino({ level: 'silent' }),
  });
  return { q, registry };
}

const warn = (reason: string, slot?: string) => ({
  type: 'Warning' as const,
  reason,
  note: `${reason} happened`,
  ...(slot === undefined ? {} : { slot }),
});

describe('eventBody', () => {
  it('regards the Node, prefixes the slot, clips fields to the API limits', () => {
    const body = eventBody(
      { node: 'pi-1', podName: 'p'.repeat(200) },
      'n',
      warn('R'.repeat(200), 'slot-0'),
      0,
    );
    expect(body).toMatchObject({
      metadata: { name: 'n' },
      regarding: { kind: 'Node', name: 'pi-1' },
      note: `slot-0: ${'R'.repeat(200)} happened`,
    });
    expect(body.reportingInstance).toHaveLength(128);
    expect(body.reason).toHaveLength(128);
    expect(body.series).toBeUndefined();
    const series = eventBody({ node: 'pi-1', podName: 'p' }, 'n', warn('R'), 0, {
      event: warn('R'),
      count: 4,
      firstAt: 0,
      lastAt: 5_000,
    });
    expect(series.series?.count).toBe(4);
  });
});

describe('EventQueue', () => {
  it('keeps the newest maxPending, each with its own name, and sends them oldest first', async () => {
    const { q, registry } = queue(3);
    for (const r of ['A', 'B', 'C', 'D']) q.offer(warn(r), 1_000);
    expect(q.size).toBe(3);
    expect(q.nextDue(2_000)).toBe(2_000);
    const sent: EventsV1Event[] = [];
    await q.flush(async (ns, e) => {
      expect(ns).toBe('default');
      sent.push(e);
    });
    expect(sent.map((e) => e.reason)).toEqual(['B', 'C', 'D']);
    expect(new Set(sent.map((e) => e.metadata?.name)).size).toBe(3);
    expect(q.size).toBe(0);
    expect(await registry.getSingleMetricAsString('farm_kube_events_dropped_total')).toContain(
      'cause="queue-full"} 1',
    );
  });

  it('a repeat waits for its window, then goes as a series', async () => {
    const { q } = queue();
    q.offer(warn('A'), 0);
    await q.flush(() => Promise.resolve());
    q.offer(warn('A'), 10_000);
    expect(q.size).toBe(0);
    const closes = q.nextDue(20_000);
    expect(closes).toBeGreaterThan(20_000);
    q.expire(closes ?? 0);
    expect(q.size).toBe(1);
  });

  it('a failure that may pass stops the flush and keeps the rest; a final refusal drops only that one', async () => {
    const { q } = queue();
    for (const r of ['A', 'B', 'C']) q.offer(warn(r), 0);
    await expect(
      q.flush(async () => {
        throw new KubeApiError(503, 'ServiceUnavailable', true, 'busy');
      }),
    ).rejects.toThrow('busy');
    expect(q.size).toBe(3);
    const sent: string[] = [];
    await q.flush(async (_ns, e) => {
      if (e.reason === 'A') throw new KubeApiError(422, 'Invalid', false, 'no');
      if (e.reason === 'B') throw new KubeApiError(409, 'AlreadyExists', false, 'got through');
      sent.push(e.reason ?? '');
    });
    expect(sent).toEqual(['C']);
    expect(q.size).toBe(0);
  });
});
