import { describe, expect, it } from 'vitest';
import { slot, snap } from '../../../test/rigs/cluster-snapshots.js';
import type { SnapshotSlot } from './cluster-model.js';
import {
  ANNOTATION_ADDRESS,
  ANNOTATION_IDLE_CHECKS,
  ANNOTATION_INVENTORY,
  ANNOTATION_LIFECYCLE,
  inventoryJson,
  leaseAnnotations,
  parseLeaseLifecycle,
  urgentLeaseKey,
} from './lease-annotations.js';

describe('lease annotations', () => {
  const s = snap(
    [
      slot('usb-1-1', 'ready', {
        deviceType: 'sargo',
        model: 'Pixel 3a',
        batteryPercent: 87.4,
        temperatureC: 31.26,
        reason: 'fine',
      }),
      slot('usb-1-2', 'asleep'),
    ],
    { 'usb-1-1': { idleChecks: 2, asleep: false }, 'usb-1-2': { idleChecks: 0, asleep: true } },
  );

  it('encodes the lifecycle and a compact inventory', () => {
    const a = leaseAnnotations({ ...s, host: { model: 'Raspberry Pi 4', socC: 52 } });
    expect(a[ANNOTATION_IDLE_CHECKS]).toBe('{"usb-1-1":2,"usb-1-2":0}');
    expect(a[ANNOTATION_LIFECYCLE]).toBe('{"usb-1-1":"awake","usb-1-2":"asleep"}');
    expect(JSON.parse(a[ANNOTATION_INVENTORY] ?? '')).toEqual({
      slots: [
        {
          name: 'usb-1-1',
          bot: 'pi-1-usb-1-1',
          state: 'ready',
          reason: 'fine',
          type: 'sargo',
          model: 'Pixel 3a',
          battery: 87,
          tempC: 31.3,
        },
        { name: 'usb-1-2', bot: 'pi-1-usb-1-2', state: 'asleep' },
      ],
      host: { model: 'Raspberry Pi 4', socC: 52 },
    });
  });

  it('publishes where the gate reaches the agent, and what the gate matches and shows', () => {
    const withPhone = snap([
      slot('usb-1-1', 'maintenance', {
        serial: 'A1',
        taskRunning: true,
        dimensions: { device_type: ['sargo'], device_os: ['Q', 'QQ1A'] },
        uptimeSeconds: 90_061.4,
      }),
    ]);
    expect(leaseAnnotations(withPhone)).not.toHaveProperty([ANNOTATION_ADDRESS]);
    const a = leaseAnnotations({ ...withPhone, address: '10.0.0.7:8080' });
    expect(a[ANNOTATION_ADDRESS]).toBe('10.0.0.7:8080');
    expect(JSON.parse(a[ANNOTATION_INVENTORY] ?? '')).toMatchObject({
      slots: [
        {
          serial: 'A1',
          task: true,
          dims: { device_type: ['sargo'], device_os: ['Q', 'QQ1A'] },
          up: 90_061,
        },
      ],
    });
  });

  it('round-trips the lifecycle through parseLeaseLifecycle', () => {
    expect(parseLeaseLifecycle(leaseAnnotations(s))).toEqual(s.lifecycle);
  });

  it.each([
    ['absent', undefined, undefined],
    ['garbage', { [ANNOTATION_IDLE_CHECKS]: '{', [ANNOTATION_LIFECYCLE]: '[]' }, undefined],
    [
      'counts only',
      { [ANNOTATION_IDLE_CHECKS]: '{"a":3}' },
      { a: { idleChecks: 3, asleep: false } },
    ],
    [
      'states only',
      { [ANNOTATION_LIFECYCLE]: '{"a":"asleep"}' },
      { a: { idleChecks: 0, asleep: true } },
    ],
    [
      'bad entries are skipped, good ones kept',
      {
        [ANNOTATION_IDLE_CHECKS]: '{"a":-1,"b":1.5,"c":"2","d":2}',
        [ANNOTATION_LIFECYCLE]: '{"a":"dozing","e":"awake"}',
      },
      { d: { idleChecks: 2, asleep: false }, e: { idleChecks: 0, asleep: false } },
    ],
  ])('parse lifecycle: %s', (_n, annotations, want) => {
    expect(parseLeaseLifecycle(annotations)).toEqual(want);
  });

  it('caps the inventory: host facts, then reasons, then trailing slots', () => {
    const many = snap(
      Array.from({ length: 40 }, (_, i) =>
        slot(`usb-1-${i}`, 'ready', { reason: 'r'.repeat(100) }),
      ),
    );
    const huge = { ...many, host: { blob: 'x'.repeat(5000) } };
    const full = JSON.parse(inventoryJson(huge, 1_000_000)) as {
      host: unknown;
      slots: { reason?: string }[];
    };
    expect(full.host).toEqual({ omitted: '5011 bytes' });
    expect(full.slots[0]?.reason).toHaveLength(100);

    type Inv = { slots: { reason?: string }[]; more?: number };
    const noReasons = JSON.parse(inventoryJson(huge, 3000)) as Inv;
    expect(noReasons.slots).toHaveLength(40);
    expect(noReasons.slots.every((x) => x.reason === undefined)).toBe(true);
    expect(noReasons.more).toBeUndefined();

    const cut = inventoryJson(huge, 1500);
    const fewer = JSON.parse(cut) as Inv;
    expect(fewer.slots.length).toBeGreaterThan(0);
    expect(fewer.slots.length).toBeLessThan(40);
    expect(fewer.more).toBe(40 - fewer.slots.length);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1500);
  });

  it('the urgent key ignores battery, temperature, reasons and host facts, not states', () => {
    const base = urgentLeaseKey(s);
    const [a, b] = s.slots as [SnapshotSlot, SnapshotSlot];
    expect(
      urgentLeaseKey({
        ...s,
        slots: [{ ...a, batteryPercent: 12, temperatureC: 40, reason: 'hot' }, b],
        host: { x: 1 },
      }),
    ).toBe(base);
    expect(urgentLeaseKey({ ...s, slots: [{ ...a, state: 'busy' }, b] })).not.toBe(base);
    expect(
      urgentLeaseKey({
        ...s,
        lifecycle: { ...s.lifecycle, 'usb-1-1': { idleChecks: 3, asleep: false } },
      }),
    ).not.toBe(base);
  });
});
