import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SlotRegistry } from './slot-registry.js';
import type { SlotState } from './slot-state.js';
import { noDeviceDimensions, type DeviceDimensions } from './swarming-dimensions.js';

const NO_DEVICE: DeviceDimensions = noDeviceDimensions({}, { insideDocker: false }).dimensions;

function phone(deviceType: string): DeviceDimensions {
  return { ...NO_DEVICE, android_devices: ['1'], device_type: [deviceType], os: ['Android'] };
}

function registry(): SlotRegistry {
  return new SlotRegistry({
    node: 'pi',
    botIdPattern: '{node}--{slot}',
    noDevice: NO_DEVICE,
    log: pino({ enabled: false }),
  });
}

function slot(r: SlotRegistry, key: string): SlotState {
  const made = r.slotFor(key);
  if (!made.ok) throw new Error(made.reason);
  return made.value;
}

describe('SlotRegistry.toSave', () => {
  it('gives the slots to save only when one to save changed', () => {
    const r = registry();
    expect(r.toSave()).toBeUndefined();
    const first = slot(r, 'usb:1-1.3');
    // A slot that never had a phone's dimensions is not saved.
    expect(r.toSave()).toBeUndefined();
    first.lastDimensions = phone('sailfish');
    expect(r.toSave()?.map((s) => s.key)).toEqual(['usb:1-1.3']);
    expect(r.toSave()).toBeUndefined();
    // Dimensions replaced by others: saved; by the same values: nothing new to write.
    first.lastDimensions = phone('walleye');
    expect(r.toSave()?.[0]?.dimensions).toEqual(phone('walleye'));
    first.lastDimensions = phone('walleye');
    expect(r.toSave()).toBeUndefined();
    // A second slot gains dimensions: both saved, in slot order.
    const second = slot(r, 'usb:1-1.4');
    expect(r.toSave()).toBeUndefined();
    second.lastDimensions = phone('sargo');
    expect(r.toSave()?.map((s) => [s.index, s.key])).toEqual([
      [0, 'usb:1-1.3'],
      [1, 'usb:1-1.4'],
    ]);
    // The same slots with their bot ids changed (a new pattern would do it).
    second.botId = 'pi--other';
    expect(r.toSave()?.[1]?.botId).toBe('pi--other');
    expect(r.toSave()).toBeUndefined();
  });
});
