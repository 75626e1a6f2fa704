import { describe, expect, it } from 'vitest';
import { changedSince, fingerprint } from './slot-state.js';
import type { Slot } from './slot-state.js';
import type { SlotHealth } from './health.js';
import type { DeviceDimensions } from './swarming-dimensions.js';

function dimensions(deviceType: string): DeviceDimensions {
  return {
    android_devices: ['1'],
    device_os: ['Q'],
    device_os_flavor: ['google'],
    device_os_type: ['user'],
    device_type: [deviceType],
    inside_docker: [],
    os: ['Android'],
  };
}

const ready: SlotHealth = { state: 'ready', swarming: { ready: true } };
const busy: SlotHealth = { state: 'busy', reason: 'task running', swarming: { ready: true } };

function slot(fields: Partial<Slot> = {}): Slot {
  return {
    key: 'usb:1-1.3',
    name: 'usb-1-1-3',
    index: 0,
    botId: 'host--usb-1-1-3',
    serial: 'R58N',
    adbState: 'device',
    props: new Map([['ro.product.model', 'Pixel']]),
    dimensions: dimensions('sailfish'),
    deviceTypes: ['sailfish'],
    bootCompleted: true,
    uptimeSeconds: 100,
    lastSeen: 1_000,
    readingErrors: {},
    health: ready,
    overrides: {},
    taskRunning: false,
    ...fields,
  };
}

/** Slots that differ, or not, in what listeners care about (and in what they do not). */
const variants: Slot[] = [
  slot(),
  slot({ uptimeSeconds: 200, lastSeen: 2_000, props: new Map() }),
  slot({ taskRunning: true }),
  slot({ taskRunning: true, health: busy }),
  slot({ health: busy }),
  slot({ health: { ...busy, reason: 'another reason' } }),
  slot({
    taskRunning: true,
    health: { state: 'busy', reason: 'task running', swarming: { ready: true } },
  }),
  slot({ readingErrors: { uptimeSeconds: 'unreadable' } }),
  slot({ readingErrors: { uptimeSeconds: 'unreadable too' } }),
  slot({ readingErrors: { battery: 'unreadable' } }),
  slot({ battery: { percent: 50 } as Slot['battery'] }),
  slot({ overrides: { maintenance: 'fixing' } }),
  slot({ dimensions: dimensions('walleye') }),
];

describe('changedSince', () => {
  it('tells a change exactly when the fingerprint changed, whether or not one was made', () => {
    for (const before of variants) {
      for (const after of variants) {
        const expected = fingerprint(before) !== fingerprint(after);
        for (const last of [{ shown: before }, { shown: before, print: fingerprint(before) }]) {
          const emitted = changedSince(last, after);
          expect(emitted !== undefined).toBe(expected);
          // What is kept is the new slot, with its own print if one was made.
          if (emitted !== undefined) {
            expect(emitted.shown).toBe(after);
            if (emitted.print !== undefined) expect(emitted.print).toBe(fingerprint(after));
          }
          if (last.print === undefined && !expected) expect(last.print).toBe(fingerprint(before));
        }
      }
    }
    expect(changedSince(undefined, slot())).toEqual({ shown: slot() });
  });

  it('makes no fingerprint when a task starts or ends (before the task hook answers)', () => {
    const idle = { shown: slot() };
    const started = changedSince(idle, slot({ taskRunning: true, health: busy }));
    expect(started).toEqual({ shown: slot({ taskRunning: true, health: busy }) });
    expect(started?.print).toBeUndefined();
    expect(idle).not.toHaveProperty('print');
    const ended = changedSince(started, slot());
    expect(ended?.print).toBeUndefined();
    // The next change that needs the print makes it then.
    const emitted = ended !== undefined ? changedSince(ended, slot({ lastSeen: 9 })) : undefined;
    expect(emitted).toBeUndefined();
    expect(ended?.print).toBe(fingerprint(slot()));
  });
});
