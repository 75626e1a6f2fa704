import { describe, expect, it } from 'vitest';
import { ReportSchedule } from './report-schedule.js';

/** The timing rules on plain numbers; cluster-reporter.test.ts sees them through the API. */
function schedule(): ReportSchedule {
  return new ReportSchedule({
    renewIntervalMs: 10_000,
    pollMs: 30_000,
    debounceMs: 1_000,
    minChangeIntervalMs: 5_000,
    backoff: { initialMs: 1_000, maxMs: 30_000, random: () => 0 },
  });
}

describe('ReportSchedule', () => {
  it('at first everything is due; then renewal and Node reads follow their periods', () => {
    const s = schedule();
    // The first change round is due at once (before any time at all: never written).
    expect(s.nextDue(0)).toBeLessThanOrEqual(0);
    expect([s.renewDue(0), s.pollDue(0), s.changing(0)]).toEqual([true, true, true]);
    s.synced(s.version);
    s.renewed(0);
    s.polled(0);
    expect(s.changeDue()).toBeUndefined();
    expect(s.nextDue(0)).toBe(10_000);
    expect(s.renewDue(9_999)).toBe(false);
    expect(s.pollDue(30_000)).toBe(true);
    expect(s.nextDue(5_000, 7_000, undefined)).toBe(7_000);
    s.pollSoon();
    expect(s.nextDue(5_000)).toBe(5_000);
  });

  it('a burst of changes is written once, after the quiet time, at most once per interval', () => {
    const s = schedule();
    s.synced(s.version);
    s.changed(100);
    s.changed(600);
    // Debounced from the first change of the burst, not the last.
    expect(s.changeDue()).toBe(1_100);
    const v = s.version;
    s.changed(1_050); // arrives during the round that writes v
    s.synced(v);
    s.changeWritten(1_100);
    // Still pending, but no sooner than 5 s after the last change write.
    expect(s.changeDue()).toBe(6_100);
    expect(s.changing(6_099)).toBe(false);
    expect(s.changing(6_100)).toBe(true);
  });

  it('a failed round waits out the backoff or Retry-After, whichever is longer, from the answer', () => {
    const s = schedule();
    expect(s.failed(2_000)).toBe(1_000);
    expect(s.mayRun(2_999)).toBe(false);
    expect(s.nextDue(2_500, 2_500)).toBe(3_000);
    expect(s.failed(3_000, 7)).toBe(7_000);
    expect(s.mayRun(10_000)).toBe(true);
    s.succeeded();
    expect(s.failed(20_000)).toBe(1_000);
  });
});
