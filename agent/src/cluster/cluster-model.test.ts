import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_IDLE_CHECKS,
  ANNOTATION_INVENTORY,
  ANNOTATION_LIFECYCLE,
  type ClusterSnapshot,
  computeLabels,
  deviceTypesLabel,
  inventoryJson,
  isLabelValue,
  labelFragment,
  labelPatch,
  leaseAnnotations,
  overrideAnnotation,
  parseLeaseLifecycle,
  parseOverrides,
  sameOverrides,
  slotTransitionEvent,
  type SnapshotSlot,
  urgentLeaseKey,
} from './cluster-model.js';

const slot = (name: string, state: string, extra: Partial<SnapshotSlot> = {}): SnapshotSlot => ({
  name,
  key: `usb:${name}`,
  botId: `pi-1-${name}`,
  state,
  ...extra,
});

const snap = (
  slots: SnapshotSlot[],
  lifecycle: ClusterSnapshot['lifecycle'] = {},
): ClusterSnapshot => ({
  node: 'pi-1',
  slots,
  lifecycle,
});

describe('labels', () => {
  it.each([
    ['no slots', snap([]), { phones: '0', types: '', awake: 'false' }],
    [
      'two phones, one type, awake',
      snap([
        slot('a', 'ready', { deviceType: 'sargo' }),
        slot('b', 'busy', { deviceType: 'sargo' }),
      ]),
      { phones: '2', types: 'sargo', awake: 'true' },
    ],
    [
      'missing and empty slots are not phones; asleep ones are',
      snap([
        slot('a', 'missing', { deviceType: 'walleye' }),
        slot('b', 'empty'),
        slot('c', 'asleep', { deviceType: 'sargo' }),
      ]),
      { phones: '1', types: 'sargo', awake: 'false' },
    ],
    [
      'asleep in the lifecycle though the state lags',
      snap([slot('a', 'ready', { deviceType: 'sargo' })], { a: { idleChecks: 0, asleep: true } }),
      { phones: '1', types: 'sargo', awake: 'false' },
    ],
    [
      'sorted, distinct, sanitised',
      snap([
        slot('a', 'ready', { deviceType: 'walleye' }),
        slot('b', 'ready', { deviceType: 'Pixel 7/Pro' }),
        slot('c', 'ready', { deviceType: 'sargo' }),
        slot('d', 'ready', { deviceType: 'walleye' }),
      ]),
      { phones: '4', types: 'Pixel-7-Pro.sargo.walleye', awake: 'true' },
    ],
  ])('%s', (_name, snapshot, want) => {
    const labels = computeLabels(snapshot);
    expect(labels).toEqual({
      'farm-agent.io/phones': want.phones,
      'farm-agent.io/device-types': want.types,
      'farm-agent.io/awake': want.awake,
    });
    for (const v of Object.values(labels)) expect(isLabelValue(v)).toBe(true);
  });

  it.each([
    ['sdk_gphone64_arm64', 'sdk_gphone64_arm64'],
    ['a.b', 'a-b'],
    ['  -x- ', 'x'],
    ['___', ''],
    ['é', ''],
    [`${'a'.repeat(62)}-b`, 'a'.repeat(62)],
  ])('fragment %j → %j', (input, want) => {
    expect(labelFragment(input)).toBe(want);
    expect(isLabelValue(want)).toBe(true);
  });

  it('device types longer than 63 characters keep whole types only', () => {
    const types = [
      'aaaaaaaaaa',
      'bbbbbbbbbb',
      'cccccccccc',
      'dddddddddd',
      'eeeeeeeeee',
      'ffffffffff',
    ];
    // 6 × 10 + 5 dots = 65: the last one does not fit, and is not cut.
    expect(deviceTypesLabel(types)).toBe(types.slice(0, 5).join('.'));
    // A shorter one later in the order still fits after a longer one is skipped.
    expect(deviceTypesLabel([...types, 'g'])).toBe(`${types.slice(0, 5).join('.')}.g`);
    expect(isLabelValue(deviceTypesLabel([...types, 'g', 'h']))).toBe(true);
  });

  it.each([
    [{ a: '1', b: 'x' }, undefined, { a: '1', b: 'x' }],
    [{ a: '1', b: 'x' }, { a: '1', b: 'x', other: 'kept' }, undefined],
    [{ a: '2', b: 'x' }, { a: '1', b: 'x' }, { a: '2' }],
    [{ a: '1' }, {}, { a: '1' }],
  ])('label patch %j over %j', (desired, actual, want) => {
    expect(labelPatch(desired, actual)).toEqual(want);
  });
});

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

describe('operator overrides', () => {
  it.each<[string, Record<string, string> | undefined, unknown, string[]]>([
    ['none', undefined, { node: {}, slots: {} }, []],
    [
      'node-wide, empty reason gets the default text',
      { 'farm-agent.io/maintenance': 'rack move', 'farm-agent.io/quarantine': '' },
      {
        node: { maintenance: 'rack move', quarantine: 'quarantine set by an operator on the Node' },
        slots: {},
      },
      [],
    ],
    [
      'per slot, whitespace collapsed',
      {
        'farm-agent.io/quarantine.usb-1-1-3': '  cracked\n screen ',
        'farm-agent.io/maintenance.usb-1-1-3': '',
      },
      {
        node: {},
        slots: {
          'usb-1-1-3': {
            quarantine: 'cracked screen',
            maintenance: 'maintenance set by an operator on the Node for usb-1-1-3',
          },
        },
      },
      [],
    ],
    [
      'malformed keys are ignored and reported, unrelated ones skipped silently',
      {
        'farm-agent.io/maintenance.': 'x',
        'farm-agent.io/maintenance.USB-1': 'x',
        'farm-agent.io/maintenance.a.b': 'x',
        'farm-agent.io/maintenancex': 'x',
        'farm-agent.io/Quarantine': 'x',
        'farm-agent.io/inventory': '{}',
        'other.io/maintenance': 'x',
        'node.alpha.kubernetes.io/ttl': '0',
      },
      { node: {}, slots: {} },
      [
        'farm-agent.io/Quarantine',
        'farm-agent.io/maintenance.',
        'farm-agent.io/maintenance.USB-1',
        'farm-agent.io/maintenance.a.b',
        'farm-agent.io/maintenancex',
      ],
    ],
  ])('%s', (_n, annotations, overrides, ignored) => {
    expect(parseOverrides(annotations)).toEqual({ overrides, ignored });
  });

  it('a long reason is cut to 256 characters', () => {
    const { overrides } = parseOverrides({ 'farm-agent.io/maintenance': 'y'.repeat(1000) });
    expect(overrides.node.maintenance).toHaveLength(256);
  });

  it.each([
    ['maintenance', undefined, { key: 'farm-agent.io/maintenance' }],
    ['quarantine', 'usb-1-1-3', { key: 'farm-agent.io/quarantine.usb-1-1-3' }],
    ['quarantine', 'USB 1', { error: '"USB 1" is not a slot name' }],
    ['quarantine', 'a'.repeat(53), { error: expect.stringContaining('too long') as unknown }],
    ['maintenance', 'a'.repeat(51), { key: `farm-agent.io/maintenance.${'a'.repeat(51)}` }],
  ] as const)('annotation for %s on %s', (kind, slotName, want) => {
    expect(overrideAnnotation(kind, slotName)).toEqual(want);
  });

  it('every key overrideAnnotation makes parses back', () => {
    for (const name of ['usb-1-1', 'a'.repeat(51), '192-168-1-20-5555']) {
      const made = overrideAnnotation('maintenance', name);
      if (!('key' in made)) throw new Error(made.error);
      expect(parseOverrides({ [made.key]: 'why' }).overrides.slots[name]).toEqual({
        maintenance: 'why',
      });
    }
  });

  it('sameOverrides ignores key order', () => {
    const a = {
      node: { maintenance: 'm', quarantine: 'q' },
      slots: { x: { quarantine: 'q' }, y: {} },
    };
    const b = {
      node: { quarantine: 'q', maintenance: 'm' },
      slots: { y: {}, x: { quarantine: 'q' } },
    };
    expect(sameOverrides(a, b)).toBe(true);
    expect(sameOverrides(a, { ...b, node: { maintenance: 'm' } })).toBe(false);
  });
});

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
  ])('%s → %s: %s', (prev, next, want) => {
    const e = slotTransitionEvent(prev, next);
    expect(e === undefined ? undefined : `${e.type} ${e.reason}`).toBe(want);
  });
});
