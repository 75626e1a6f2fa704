import { describe, expect, it } from 'vitest';
import { chargeStep } from './charge-rule.js';
import type { ChargeEvent, ChargePhase, ChargeView } from './charge-rule.js';

const BAND = { lowPercent: 40, highPercent: 80 };
const NOW = 1_000_000;
const idle = (percent: number, more: Partial<ChargeView> = {}): ChargeEvent => ({
  type: 'reading',
  view: { visible: true, idle: true, percent, powered: true, ...more },
});
const step = (phase: ChargePhase, event: ChargeEvent) => chargeStep(phase, event, BAND, NOW);

describe('chargeStep', () => {
  it('cuts an idle phone at the band top, only then', () => {
    expect(step({ kind: 'charging' }, idle(79))).toEqual({ next: { kind: 'charging' } });
    expect(step({ kind: 'charging' }, idle(80))).toEqual({
      next: { kind: 'resting', since: NOW, cutPercent: 80 },
      action: 'cut',
    });
    // Busy, recovering, worn (not idle) or away: no cut.
    expect(step({ kind: 'charging' }, idle(95, { idle: false }))).toEqual({
      next: { kind: 'charging' },
    });
    expect(step({ kind: 'charging' }, idle(95, { visible: false }))).toEqual({
      next: { kind: 'charging' },
    });
  });

  it('a task or wake restores at once and holds off the next cut', () => {
    const resting: ChargePhase = { kind: 'resting', since: 0, cutPercent: 80 };
    const demanded = step(resting, { type: 'demand', holdUntil: NOW + 60_000 });
    expect(demanded).toEqual({
      next: { kind: 'charging', heldUntil: NOW + 60_000 },
      action: 'restore',
    });
    expect(step(demanded.next, idle(90)).action).toBeUndefined();
    expect(chargeStep(demanded.next, idle(90), BAND, NOW + 60_000).action).toBe('cut');
    expect(step({ kind: 'charging' }, { type: 'demand', holdUntil: NOW }).action).toBeUndefined();
    // Once the task has the phone the hold is spent: after the task the top cuts at once.
    const taken = step(demanded.next, idle(85, { idle: false }));
    expect(taken).toEqual({ next: { kind: 'charging' } });
    expect(step(taken.next, idle(85)).action).toBe('cut');
  });

  it('restores for a check, then rests again above the bottom and charges at it', () => {
    const resting: ChargePhase = { kind: 'resting', since: 0, cutPercent: 80 };
    const checking = step(resting, { type: 'check-due', readBy: NOW + 120_000 });
    expect(checking).toEqual({
      next: { kind: 'checking', cutPercent: 80, readBy: NOW + 120_000 },
      action: 'restore',
    });
    // Back in adb but not read yet: wait.
    expect(step(checking.next, idle(NaN, { percent: undefined })).next).toBe(checking.next);
    expect(step(checking.next, idle(78))).toEqual({
      next: { kind: 'resting', since: NOW, cutPercent: 78 },
      action: 'cut',
    });
    expect(step(checking.next, idle(40))).toEqual({ next: { kind: 'charging' } });
    // A task took it while it was being read: stays on.
    expect(step(checking.next, idle(60, { idle: false }))).toEqual({ next: { kind: 'charging' } });
  });

  it('waits at a check for a phone read before its slot settled, until readBy', () => {
    const checking: ChargePhase = { kind: 'checking', cutPercent: 80, readBy: NOW + 120_000 };
    // Back in adb and read while its boot state is not yet: nobody else wants it, so wait.
    const settling = idle(70, { idle: false, settling: true });
    expect(step(checking, settling)).toEqual({ next: checking });
    expect(step(checking, idle(70))).toEqual({
      next: { kind: 'resting', since: NOW, cutPercent: 70 },
      action: 'cut',
    });
    // Not settled by readBy: left charging. At the bottom it charges whether settled or not.
    expect(chargeStep(checking, settling, BAND, NOW + 120_000)).toEqual({
      next: { kind: 'charging' },
    });
    expect(step(checking, idle(40, { idle: false, settling: true }))).toEqual({
      next: { kind: 'charging' },
    });
  });

  it('finds a cut that did not cut: still powered, or charged while away', () => {
    const resting: ChargePhase = { kind: 'resting', since: 0, cutPercent: 80 };
    expect(
      step(resting, { type: 'verify-due', view: { visible: true, idle: true, powered: true } }),
    ).toEqual({
      next: {
        kind: 'unavailable',
        reason: 'the phone stayed on power after its port was cut (the hub keeps VBUS on)',
      },
      action: 'restore',
    });
    // Gone from adb as it should: nothing to see yet.
    expect(step(resting, { type: 'verify-due', view: { visible: false, idle: false } })).toEqual({
      next: resting,
    });
    expect(step({ kind: 'checking', cutPercent: 80, readBy: NOW }, idle(82))).toEqual({
      next: {
        kind: 'unavailable',
        reason: 'the battery rose from 80% to 82% while its port was cut (the hub keeps VBUS on)',
      },
    });
    const unavailable: ChargePhase = { kind: 'unavailable', reason: 'x' };
    expect(step(unavailable, idle(100))).toEqual({ next: unavailable });
  });
});
