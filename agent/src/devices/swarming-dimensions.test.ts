import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGetprop } from './parse/getprop.js';
import {
  DEVICE_DIMENSION_KEYS,
  deriveAndroidDimensions,
  goneMissingReason,
  noDeviceDimensions,
} from './swarming-dimensions.js';

function fixtureProps(name: string): ReadonlyMap<string, string> {
  const text = readFileSync(new URL(`./parse/fixtures/${name}`, import.meta.url), 'utf8');
  const result = parseGetprop(text);
  if (!result.ok) throw new Error(result.reason);
  return result.value.props;
}

const noDocker = { insideDocker: false };

describe('deriveAndroidDimensions from real getprop output', () => {
  it.each([
    [
      'getprop-galaxy-s20-android10.txt',
      {
        android_devices: ['1'],
        device_os: ['Q', 'QP1A.190711.020', 'QP1A.190711.020_G980FXXU1ATB3'],
        device_os_flavor: ['samsung'],
        device_os_type: ['user'],
        device_type: ['x1s', 'exynos990'],
        inside_docker: [],
        os: ['Android'],
      },
    ],
    [
      'getprop-pixel3a-android12.txt',
      {
        android_devices: ['1'],
        device_os: ['S', 'SP1A.210812.016.C1', 'SP1A.210812.016.C1_7913779'],
        device_os_flavor: ['google'],
        device_os_type: ['user'],
        device_type: ['sargo'],
        inside_docker: [],
        os: ['Android'],
      },
    ],
    [
      'getprop-nexus7-android6-crlf.txt',
      {
        android_devices: ['1'],
        device_os: ['M', 'MRA58K', 'MRA58K_2256973'],
        device_os_flavor: ['google'],
        device_os_type: ['user'],
        device_type: ['flo'],
        inside_docker: [],
        os: ['Android'],
      },
    ],
    [
      // Brand `Android` and system brand `aosp` both become `android`; the board is empty.
      'getprop-aosp-emulator-android14.txt',
      {
        android_devices: ['1'],
        device_os: ['U', 'UE1A.230829.036', 'UE1A.230829.036_11228894'],
        device_os_flavor: ['android'],
        device_os_type: ['userdebug'],
        device_type: ['emu64x'],
        inside_docker: [],
        os: ['Android'],
      },
    ],
  ])('%s', (name, expected) => {
    expect(deriveAndroidDimensions(fixtureProps(name), noDocker)).toEqual(expected);
  });

  it('adds inside_docker when asked', () => {
    const dims = deriveAndroidDimensions(fixtureProps('getprop-pixel3a-android12.txt'), {
      insideDocker: true,
    });
    expect(dims.inside_docker).toEqual(['1', 'containerd']);
  });
});

describe('deriveAndroidDimensions rules', () => {
  const derive = (props: Record<string, string>) =>
    deriveAndroidDimensions(new Map(Object.entries(props)), noDocker);

  it.each([
    [{ 'ro.build.id': 'QP1A.190711.020' }, ['Q', 'QP1A.190711.020']],
    [
      { 'ro.build.id': 'eng.builder', 'ro.build.version.incremental': '7' },
      ['eng.builder', 'eng.builder_7'],
    ],
    [{ 'ro.build.id': '5.1.1' }, ['5.1.1']],
    [
      { 'ro.build.id': ' MRA58K ', 'ro.build.version.incremental': ' 1 ' },
      ['M', 'MRA58K', 'MRA58K_1'],
    ],
    [{ 'ro.build.version.incremental': '2256973' }, []],
    [{ 'ro.build.id': '' }, []],
  ])('device_os of %j is %j', (props, deviceOs) => {
    expect(derive(props).device_os).toEqual(deviceOs);
  });

  it('marks a device present only when it has a build id', () => {
    expect(derive({ 'ro.build.id': 'X' })).toMatchObject({
      android_devices: ['1'],
      os: ['Android'],
    });
    expect(derive({ 'ro.product.device': 'sargo' })).toMatchObject({
      android_devices: [],
      os: [],
      device_type: ['sargo'],
    });
  });

  it.each([
    [{ 'ro.product.brand': 'Google', 'ro.product.system.brand': 'google' }, ['google']],
    [{ 'ro.product.brand': 'AOSP' }, ['android']],
    [
      { 'ro.product.brand': 'samsung', 'ro.product.system.brand': 'Android' },
      ['samsung', 'android'],
    ],
    [{ 'ro.product.system.brand': 'aosp' }, ['android']],
    [{ 'ro.product.brand': '  ' }, []],
  ])('device_os_flavor of %j is %j', (props, flavors) => {
    expect(derive(props).device_os_flavor).toEqual(flavors);
  });

  it.each([
    [
      { 'ro.product.device': 'a', 'ro.build.product': 'b', 'ro.product.board': 'c' },
      ['a', 'b', 'c'],
    ],
    [{ 'ro.product.device': 'a', 'ro.build.product': 'a', 'ro.product.board': 'b' }, ['a', 'b']],
    [{ 'ro.product.device': '', 'ro.build.product': 'b', 'ro.product.board': 'b' }, ['b']],
    [{ 'ro.product.board': 'c' }, ['c']],
  ])('device_type of %j is %j', (props, types) => {
    expect(derive(props).device_type).toEqual(types);
  });

  it('always returns every owned key, and only those', () => {
    expect(Object.keys(derive({})).sort()).toEqual([...DEVICE_DIMENSION_KEYS].sort());
    expect(Object.values(derive({})).flat()).toEqual([]);
  });
});

describe('noDeviceDimensions', () => {
  const empty = {
    android_devices: [],
    device_os: [],
    device_os_flavor: [],
    device_os_type: [],
    device_type: [],
    inside_docker: [],
    os: [],
  };

  it('empties every device key and quarantines a slot whose phone went missing', () => {
    const previous = deriveAndroidDimensions(
      fixtureProps('getprop-galaxy-s20-android10.txt'),
      noDocker,
    );
    expect(noDeviceDimensions({ ...previous, pool: ['Skia'] }, noDocker)).toEqual({
      dimensions: empty,
      quarantined: 'Device "x1s" has gone missing',
    });
  });

  it('keeps the host fact inside_docker', () => {
    expect(noDeviceDimensions({}, { insideDocker: true }).dimensions).toEqual({
      ...empty,
      inside_docker: ['1', 'containerd'],
    });
  });

  it.each([[{}], [{ device_type: [] }], [{ os: ['Linux'] }]])(
    'does not quarantine a slot that had no phone: %j',
    (previous) => {
      expect(noDeviceDimensions(previous, noDocker)).toEqual({ dimensions: empty });
    },
  );
});

describe('goneMissingReason', () => {
  it.each([
    [['sargo'], 'Device "sargo" has gone missing'],
    [['x1s', 'exynos990'], 'Device "x1s" has gone missing'],
    [['', ' flo '], 'Device "flo" has gone missing'],
    [['we"ird'], 'Device "we\\"ird" has gone missing'],
    [[], undefined],
    [['  '], undefined],
  ])('%j -> %s', (types, reason) => {
    expect(goneMissingReason(types)).toBe(reason);
  });
});
