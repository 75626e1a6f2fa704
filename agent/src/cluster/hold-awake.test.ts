import { describe, expect, it } from 'vitest';
import { ANNOTATION_HOLD_AWAKE, holdAwakeValue, parseHoldAwake } from './hold-awake.js';

describe('hold-awake annotation', () => {
  it('reads slot names, skipping blanks and anything that is not a slot name', () => {
    const held = parseHoldAwake({ [ANNOTATION_HOLD_AWAKE]: ' usb-1-1-1, ,USB-X,usb-1-1-3,' });
    expect([...held]).toEqual(['usb-1-1-1', 'usb-1-1-3']);
    expect(parseHoldAwake(undefined).size).toBe(0);
    expect(parseHoldAwake({ other: 'usb-1-1-1' }).size).toBe(0);
  });

  it('writes a sorted list, and null (delete) for none', () => {
    expect(holdAwakeValue(['b', 'a', 'b'])).toBe('a,b');
    expect(holdAwakeValue([])).toBeNull();
    expect(parseHoldAwake({ [ANNOTATION_HOLD_AWAKE]: holdAwakeValue(['x', 'y']) ?? '' })).toEqual(
      new Set(['x', 'y']),
    );
  });
});
