import { describe, expect, it } from 'vitest';
import { resolveSlotRef } from './slot-ref.js';
import type { SlotIdentity } from './slot-ref.js';

const slots: SlotIdentity[] = [
  { key: 'usb:1-1.1', name: 'usb-1-1-1', botId: 'pi-1-usb-1-1-1', index: 0 },
  { key: 'usb:1-1.2', name: 'usb-1-1-2', botId: 'pi-1-usb-1-1-2', index: 1 },
  // A TCP phone whose serial is the first slot's name: a key beats a name.
  { key: 'usb-1-1-1', name: 'usb-1-1-1-tcp', botId: 'pi-1-tcp', index: 2 },
];
const resolve = (ref: string) => resolveSlotRef(slots, ref, (s) => s)?.key;

describe('resolveSlotRef', () => {
  it.each([
    ['its key', 'usb:1-1.2', 'usb:1-1.2'],
    ['its name', 'usb-1-1-2', 'usb:1-1.2'],
    ['its bot id', 'pi-1-usb-1-1-2', 'usb:1-1.2'],
    ['its index', '1', 'usb:1-1.2'],
    ['index 0', '0', 'usb:1-1.1'],
    ['a key before another slot’s name', 'usb-1-1-1', 'usb-1-1-1'],
  ])('names a slot by %s', (_, ref, key) => {
    expect(resolve(ref)).toBe(key);
  });

  it.each(['usb:9', '', '01', '1.0', '-1', '3', ' 1'])('names no slot with %j', (ref) => {
    expect(resolve(ref)).toBeUndefined();
  });

  it('never matches a field the caller does not know', () => {
    const partial = [{ slot: 'usb:1-1.1', botId: 'pi-1' }];
    const found = (ref: string) =>
      resolveSlotRef(partial, ref, (s) => ({ key: s.slot, botId: s.botId }));
    expect(found('pi-1')).toBe(partial[0]);
    expect(found('0')).toBeUndefined();
  });
});
