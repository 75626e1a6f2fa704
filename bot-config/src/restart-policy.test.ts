import { describe, expect, it } from 'vitest';
import type { BotExit } from './bot-exit.js';
import { RestartPolicy } from './restart-policy.js';

function policy(): RestartPolicy {
  return new RestartPolicy({
    restartBackoff: { initialMs: 100, maxMs: 800, jitter: 0 },
    crashes: { max: 2, windowMs: 60_000 },
    stableAfterMs: 10_000,
    terminatedRestartMs: 5_000,
  });
}

const crash = (at: number): BotExit => ({ code: 1, signal: null, at });

describe('RestartPolicy', () => {
  it('backs off crashes and missing code, restarts a reboot at once, a terminate calmly', () => {
    const p = policy();
    expect([p.delay('crash'), p.delay('zip_unavailable'), p.delay('crash')]).toEqual([
      100, 200, 400,
    ]);
    expect(p.delay('reboot_requested')).toBe(0);
    expect(p.delay('terminated')).toBe(5_000);
    // Neither advanced the backoff.
    expect(p.delay('crash')).toBe(800);
  });

  it('quarantines on the crash that fills the window, naming the cause once', () => {
    const p = policy();
    expect(p.crashed(crash(0))).toBeUndefined();
    expect(p.crashed(crash(1000))).toBe('bot crashed 2 times in 1m (last: exit code 1)');
    expect(p.crashed(crash(2000))).toBeUndefined();
    expect(p.quarantined).toContain('3 times');
  });

  it('lifts the quarantine and starts the backoff over once an incarnation stayed up', () => {
    const p = policy();
    p.crashed(crash(0));
    p.crashed(crash(1000));
    p.delay('crash');
    p.delay('crash');
    expect(p.stayedUp(2000, 5000)).toBe(false);
    expect(p.quarantined).toBeDefined();
    expect(p.stayedUp(2000, 12_000)).toBe(true);
    expect(p.quarantined).toBeUndefined();
    expect(p.delay('crash')).toBe(100);
  });
});
