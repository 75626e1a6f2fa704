import { describe, expect, it } from 'vitest';
import { slot, snap } from '../../../test/rigs/cluster-snapshots.js';
import {
  computeLabels,
  deviceTypesLabel,
  isLabelValue,
  labelFragment,
  labelPatch,
} from './node-labels.js';

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
