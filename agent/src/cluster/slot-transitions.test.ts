import { describe, expect, it } from 'vitest';
import { slotTransitionEvent } from './slot-transitions.js';

describe('slot transitions', () => {
  it.each<[string | undefined, string, string | undefined]>([
    [undefined, 'ready', undefined],
    [undefined, 'missing', undefined],
    ['ready', 'ready', undefined],
    ['empty', 'booting', 'Normal Attached'],
    ['missing', 'ready', 'Normal Attached'],
    ['missing', 'recovering', 'Normal Attached'],
    ['ready', 'missing', 'Warning Missing'],
    ['asleep', 'missing', 'Warning Missing'],
    ['missing', 'empty', 'Normal Detached'],
    ['ready', 'empty', 'Normal Detached'],
    ['ready', 'recovering', 'Warning Recovering'],
    ['recovering', 'ready', 'Normal Recovered'],
    ['recovering', 'busy', 'Normal Recovered'],
    ['recovering', 'quarantined', undefined],
    ['ready', 'busy', undefined],
    ['ready', 'asleep', undefined],
    ['asleep', 'ready', undefined],
    ['ready', 'maintenance', undefined],
    ['ready', 'worn', 'Warning BatteryWorn'],
    ['asleep', 'worn', 'Warning BatteryWorn'],
    ['missing', 'worn', 'Warning BatteryWorn'],
  ])('%s → %s: %s', (prev, next, want) => {
    const e = slotTransitionEvent(prev, next);
    expect(e === undefined ? undefined : `${e.type} ${e.reason}`).toBe(want);
  });
});
