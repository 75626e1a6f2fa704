import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isBootCompleted, parseGetprop } from './getprop.js';

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function props(text: string) {
  const result = parseGetprop(text);
  if (!result.ok) throw new Error(result.reason);
  return result.value;
}

describe('parseGetprop on real devices', () => {
  it.each([
    ['getprop-pixel3a-android12.txt', 52, 'SP1A.210812.016.C1', 'sargo', 'Pixel 3a'],
    ['getprop-galaxy-s20-android10.txt', 38, 'QP1A.190711.020', 'x1s', 'SM-G980F'],
    ['getprop-nexus7-android6-crlf.txt', 22, 'MRA58K', 'flo', 'Nexus 7'],
    ['getprop-aosp-emulator-android14.txt', 24, 'UE1A.230829.036', 'emu64x', 'sdk_phone64_x86_64'],
  ])('%s', (name, count, buildId, device, model) => {
    const { props: p, unparsed } = props(fixture(name));
    expect(p.size).toBe(count);
    expect(unparsed).toBe(0);
    expect(p.get('ro.build.id')).toBe(buildId);
    expect(p.get('ro.product.device')).toBe(device);
    expect(p.get('ro.product.model')).toBe(model);
  });

  it('strips the carriage returns of old adb from every value', () => {
    const { props: p } = props(fixture('getprop-nexus7-android6-crlf.txt'));
    expect([...p.values()].filter((v) => v.includes('\r'))).toEqual([]);
    expect(p.get('sys.boot_completed')).toBe('1');
  });

  it('keeps empty values as empty strings', () => {
    const { props: p } = props(fixture('getprop-aosp-emulator-android14.txt'));
    expect(p.get('ro.product.board')).toBe('');
    expect(p.get('sys.boot_completed')).toBe('');
  });
});

describe('parseGetprop on awkward output', () => {
  const { props: p, unparsed } = props(fixture('getprop-multiline-and-noise.txt'));

  it('joins a value that spans lines', () => {
    expect(p.get('persist.sys.boot.reason.history')).toBe(
      'reboot,shell,1700000000\nreboot,adb,1690000000\nshutdown,userrequested,1680000000',
    );
  });

  it.each([
    ['ro.empty.value', ''],
    ['ro.value.with.brackets', 'a[b]c'],
    ['ro.value.with.colon', 'http://10.0.0.1:8080/x'],
    ['ro.value.trailing.blank', 'kept '],
    ['ro.build.id', 'TQ3A.230901.001'],
    ['ro.product.device', 'bramble'],
  ])('%s = %j', (key, value) => {
    expect(p.get(key)).toBe(value);
  });

  it('drops a value cut off by the next property or by the end, and counts the noise', () => {
    expect(p.has('ro.truncated.value')).toBe(false);
    expect(p.has('ro.cut.at.end')).toBe(false);
    // linker warning + truncated value + stray line + value cut at the end
    expect(unparsed).toBe(4);
    expect(p.size).toBe(7);
  });

  it('takes the last `]` of a line as the end of the value', () => {
    expect(props('[a]: [x] [y]\n').props.get('a')).toBe('x] [y');
  });
});

describe('parseGetprop on non-getprop output', () => {
  it.each([
    ['', 'no properties in getprop output: empty output'],
    ['\r\n\n', 'no properties in getprop output: empty output'],
    ['error: device offline\n', 'no properties in getprop output: "error: device offline"'],
    [
      '/system/bin/sh: getprop: not found',
      'no properties in getprop output: "/system/bin/sh: getprop: not found"',
    ],
    ['[]: [no key]', 'no properties in getprop output: "[]: [no key]"'],
  ])('%j fails with a reason', (text, reason) => {
    expect(parseGetprop(text)).toEqual({ ok: false, reason });
  });

  it('quotes at most 80 characters of the offending output', () => {
    const result = parseGetprop('x'.repeat(500));
    expect(result).toEqual({
      ok: false,
      reason: `no properties in getprop output: "${'x'.repeat(80)}..."`,
    });
  });
});

describe('isBootCompleted', () => {
  it.each([
    ['1', true],
    ['1\r\n', true],
    [' 1 ', true],
    ['', false],
    ['0', false],
    ['11', false],
    ['error: closed', false],
    [undefined, false],
  ])('%j -> %s', (value, expected) => {
    expect(isBootCompleted(value)).toBe(expected);
  });
});
