import { describe, expect, it } from 'vitest';
import { botIdPatternProblem } from '../config/bot-id-pattern.js';
import { botIdFor, slotKey, slotName, uhubctlTarget } from './slot.js';

describe('slotKey', () => {
  it.each([
    ['usb:1-1.3', 'R58N12ABCDE', 'usb:1-1.3'],
    [' usb:1-1.3\n', 'R58N12ABCDE', 'usb:1-1.3'],
    ['unknown', '192.168.1.20:5555', '192.168.1.20:5555'],
    [undefined, '192.168.1.20:5555', '192.168.1.20:5555'],
    ['usb:336592896X', 'C02ABC', 'C02ABC'],
    ['', 'emulator-5554', 'emulator-5554'],
  ])('%j with serial %j -> %j', (path, serial, key) => {
    expect(slotKey(path, serial)).toBe(key);
  });
});

describe('slotName', () => {
  it.each([
    ['usb:1-1.3', 'usb-1-1-3'],
    ['usb:1-13', 'usb-1-13'],
    ['usb:3-1.2.4', 'usb-3-1-2-4'],
    ['192.168.1.20:5555', '192-168-1-20-5555'],
    ['[fe80::1%eth0]:5555', 'fe80-1-eth0-5555'],
    ['emulator-5554', 'emulator-5554'],
    ['R58N12ABCDE', 'r58n12abcde'],
    [
      'adb-2B231FDH200B4Z-Q8bYQm._adb-tls-connect._tcp',
      'adb-2b231fdh200b4z-q8byqm-adb-tls-connect-tcp',
    ],
  ])('%j -> %j', (key, name) => {
    expect(slotName(key)).toBe(name);
  });

  it('names keys without letters or digits by their hash', () => {
    expect(slotName('::')).toMatch(/^slot-[0-9a-f]{8}$/);
    expect(slotName('::')).not.toBe(slotName(':::'));
  });

  it('keeps long names within a DNS label and distinct', () => {
    const a = slotName(`device-${'x'.repeat(80)}-a`);
    const b = slotName(`device-${'x'.repeat(80)}-b`);
    expect(a).toMatch(/^device-x+-[0-9a-f]{8}$/);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
  });

  it('never gives two USB paths of a Pi the same name', () => {
    const paths = ['1', '2', '3', '4']
      .flatMap((p) => [`usb:1-${p}`, ...['1', '2', '3', '4'].map((q) => `usb:1-${p}.${q}`)])
      .concat(['usb:1-11', 'usb:1-1.11', 'usb:11-1', 'usb:2-1.1']);
    const names = new Set(paths.map(slotName));
    expect(names.size).toBe(paths.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
  });
});

describe('botIdFor', () => {
  const parts = { node: 'skia-rpi2-042', slot: 'usb:1-1.3', index: 2 };

  it.each([
    ['{node}-{slot}', 'skia-rpi2-042-usb-1-1-3'],
    ['{node}-{index}', 'skia-rpi2-042-2'],
    ['{node}.{slot}.{index}', 'skia-rpi2-042.usb-1-1-3.2'],
    ['android-{node}_{index}', 'android-skia-rpi2-042_2'],
    ['{slot}{node}', 'usb-1-1-3skia-rpi2-042'],
  ])('%j -> %j', (pattern, botId) => {
    expect(botIdFor(pattern, parts)).toEqual({ ok: true, botId });
  });

  it.each([
    ['{slot}', '"{slot}" must contain {node} and {slot} or {index} to give unique bot ids'],
    ['{node}', '"{node}" must contain {node} and {slot} or {index} to give unique bot ids'],
    ['bot-1', '"bot-1" must contain {node} and {slot} or {index} to give unique bot ids'],
    [
      '{node}-{serial}',
      'unknown placeholder {serial} in "{node}-{serial}"; use {node}, {slot}, {index}',
    ],
    ['{node}-{}', 'unknown placeholder {} in "{node}-{}"; use {node}, {slot}, {index}'],
    ['{node}-{slot', 'unbalanced brace in "{node}-{slot"'],
    ['{node}}-{slot}', 'unbalanced brace in "{node}}-{slot}"'],
    ['{{node}}-{slot}', 'unbalanced brace in "{{node}}-{slot}"'],
  ])('rejects the pattern %j', (pattern, reason) => {
    expect(botIdPatternProblem(pattern)).toBe(reason);
    expect(botIdFor(pattern, parts)).toEqual({ ok: false, reason });
  });

  it('accepts the example patterns', () => {
    expect(botIdPatternProblem('{node}-{slot}')).toBeUndefined();
  });

  it.each([
    [
      { ...parts, node: 'has space' },
      'bot id "has space-usb-1-1-3" is not valid: expected letters, digits, ".", "_" or "-" (at most 256)',
    ],
    [
      { ...parts, node: 'n'.repeat(250) },
      `bot id "${'n'.repeat(250)}-usb-1-1-3" is not valid: expected letters, digits, ".", "_" or "-" (at most 256)`,
    ],
    [{ ...parts, index: -1 }, 'slot index -1 is not a non-negative integer'],
    [{ ...parts, index: 1.5 }, 'slot index 1.5 is not a non-negative integer'],
  ])('rejects ids Swarming would not take: %#', (badParts, reason) => {
    expect(botIdFor('{node}-{slot}', badParts)).toEqual({ ok: false, reason });
  });
});

describe('uhubctlTarget', () => {
  it.each([
    ['usb:1-1.3', { hub: '1-1', port: 3 }],
    ['usb:1-1.2.4', { hub: '1-1.2', port: 4 }],
    ['usb:2-1', { hub: '2', port: 1 }],
    ['usb:1-1.12', { hub: '1-1', port: 12 }],
    [' usb:3-2.1\n', { hub: '3-2', port: 1 }],
  ])('%j -> %j', (path, target) => {
    expect(uhubctlTarget(path)).toEqual(target);
  });

  it.each([
    ['192.168.1.20:5555'],
    ['unknown'],
    [''],
    ['usb:'],
    ['usb:1'],
    ['usb:1-'],
    ['usb:1-1.'],
    ['usb:1-1..3'],
    ['usb:1-0'],
    ['usb:0-1'],
    ['usb:1-1.03'],
    ['usb:336592896X'],
    ['1-1.3'],
  ])('%j -> null', (path) => {
    expect(uhubctlTarget(path)).toBeNull();
  });
});
