import { describe, expect, it } from 'vitest';
import { idleCheck, woken, type IdleCounterState } from './idle-counter.js';

function run(activity: boolean[], limit = 4): { counts: number[]; actions: string[] } {
  let state: IdleCounterState = woken();
  const counts: number[] = [];
  const actions: string[] = [];
  for (const active of activity) {
    const result = idleCheck(state, active, limit);
    state = result.next;
    counts.push(state.idleChecks);
    actions.push(result.action === 'sleep' ? 'sleep' : state.asleep ? 'z' : '.');
  }
  return { counts, actions };
}

describe('idleCheck', () => {
  it('climbs while idle and sleeps at the limit, as the emulator did', () => {
    expect(run([false, false, false, false])).toEqual({
      counts: [1, 2, 3, 0],
      actions: ['.', '.', '.', 'sleep'],
    });
  });

  it('resets on activity', () => {
    expect(run([false, false, true, false, false, false]).counts).toEqual([1, 2, 0, 1, 2, 3]);
  });

  it('sleeps once, then stays asleep without counting', () => {
    expect(run([false, false, false, false, false, false]).actions).toEqual([
      '.',
      '.',
      '.',
      'sleep',
      'z',
      'z',
    ]);
  });

  it('activity while asleep resets the counter but does not wake (only /wake and tasks do)', () => {
    const asleep = { idleChecks: 0, asleep: true };
    expect(idleCheck(asleep, true, 4)).toEqual({ next: asleep, action: 'none' });
  });

  it('a limit of 1 sleeps at the first idle check', () => {
    expect(run([false], 1).actions).toEqual(['sleep']);
  });
});
