import { describe, expect, it, vi } from 'vitest';
import { batteryWear } from './battery-wear.js';
import type * as BatteryWearModule from './battery-wear.js';
import { changedSince, derive, fingerprint, snapshot } from './slot-state.js';
import type { Slot, SlotState } from './slot-state.js';
import type { SlotHealth } from './health.js';
import type { DeviceDimensions } from './swarming-dimensions.js';

// The wear judgement, counted (its answers are the real ones).
vi.mock('./battery-wear.js', async (importOriginal) => {
  const real = await importOriginal<typeof BatteryWearModule>();
  return { ...real, batteryWear: vi.fn(real.batteryWear) };
});

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

/** A slot with a phone and a battery reading, as the slot manager keeps it. */
function state(): SlotState {
  return {
    key: 'usb:1-1.3',
    name: 'usb-1-1-3',
    index: 0,
    botId: 'host--usb-1-1-3',
    serial: 'R58N',
    adbState: 'device',
    props: new Map(),
    dimensions: dimensions('sailfish'),
    lastDimensions: dimensions('sailfish'),
    propsStale: false,
    bootCompleted: true,
    battery: {
      percent: 80,
      plugged: ['usb'],
      health: 'good',
      temperatureC: 30,
      updatesStopped: false,
    },
    readingErrors: {},
    overrides: {},
    taskRunning: false,
    asleep: false,
    poweredOff: false,
    resting: false,
  };
}

describe('derive', () => {
  it('judges a battery once per reading: a task start or end brings none', () => {
    const slot = state();
    const judged = vi.mocked(batteryWear);
    judged.mockClear();
    derive(slot, undefined, dimensions('none'));
    slot.taskRunning = true;
    derive(slot, undefined, dimensions('none'));
    expect(slot.health?.state).toBe('busy');
    expect(judged).toHaveBeenCalledTimes(1);
    // A new reading is judged, and a worn one latches as before.
    slot.battery = {
      percent: 80,
      plugged: ['usb'],
      health: 'overheat',
      temperatureC: 30,
      updatesStopped: false,
    };
    slot.taskRunning = false;
    derive(slot, undefined, dimensions('none'));
    expect(judged).toHaveBeenCalledTimes(2);
    expect(slot.health?.state).toBe('worn');
  });
});

describe('snapshot', () => {
  it('hands out one copy of the same dimensions, a new one once they are replaced', () => {
    const slot = state();
    derive(slot, undefined, dimensions('none'));
    const first = snapshot(slot);
    slot.taskRunning = true;
    derive(slot, undefined, dimensions('none'));
    const second = snapshot(slot);
    expect(second.dimensions).toBe(first.dimensions);
    expect(first.dimensions).not.toBe(slot.dimensions);
    expect(first.dimensions).toEqual(dimensions('sailfish'));
    slot.lastDimensions = dimensions('walleye');
    derive(slot, undefined, dimensions('none'));
    expect(snapshot(slot).dimensions).toEqual(dimensions('walleye'));
    expect(first.dimensions).toEqual(dimensions('sailfish'));
  });
});
