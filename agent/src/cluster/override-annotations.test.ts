import { describe, expect, it } from 'vitest';
import { overrideAnnotation, parseOverrides, sameOverrides } from './override-annotations.js';

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
