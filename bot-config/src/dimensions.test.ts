import { describe, expect, it } from 'vitest';
import type { Dimensions } from './bot-devices.js';
import {
  MAX_KEY_LENGTH,
  MAX_VALUE_LENGTH,
  mergeDimensions,
  type MergeOptions,
} from './dimensions.js';

const opts = { botId: 'pi-1-usb-1-1.3', pool: 'android' };
const base = { id: ['pi-1-usb-1-1.3'], pool: ['android'] };

interface Case {
  name: string;
  botOwn: Dimensions;
  agentOwned: Dimensions;
  want: Dimensions;
  /** Substrings expected in the drop reasons, one per reason, in order. */
  dropped: string[];
  /** Default: `opts`, with FARM_POOL set. */
  opts?: MergeOptions;
}

const long = 'x'.repeat(MAX_VALUE_LENGTH + 1);
const longest = 'y'.repeat(MAX_VALUE_LENGTH);
// 256 astral characters: 512 UTF-16 units, but 256 for the Python server.
const astral = '\u{1F600}'.repeat(MAX_VALUE_LENGTH);

const cases: Case[] = [
  {
    name: 'keeps the bot own keys the agent does not own',
    botOwn: { ...base, cores: ['4'], os: ['Linux', 'Debian'] },
    agentOwned: {},
    want: { ...base, cores: ['4'], os: ['Linux', 'Debian'] },
    dropped: [],
  },
  {
    name: 'replaces an owned key wholesale',
    botOwn: { ...base, os: ['Linux', 'Debian'] },
    agentOwned: { os: ['Android'] },
    want: { ...base, os: ['Android'] },
    dropped: [],
  },
  {
    name: 'an empty owned list removes the key',
    botOwn: { ...base, device_type: ['sargo'] },
    agentOwned: { device_type: [] },
    want: { ...base },
    dropped: [],
  },
  {
    name: 'adds owned keys the bot lacks',
    botOwn: { ...base },
    agentOwned: { android_devices: ['1'] },
    want: { ...base, android_devices: ['1'] },
    dropped: [],
  },
  {
    name: 'trims values',
    botOwn: { ...base },
    agentOwned: { device_os: ['  Q ', '\tQP1A.190711.020\n'] },
    want: { ...base, device_os: ['Q', 'QP1A.190711.020'] },
    dropped: [],
  },
  {
    name: 'drops empty and blank values with a reason',
    botOwn: { ...base, gpu: ['', 'none'] },
    agentOwned: { device_type: ['  ', 'sargo'] },
    want: { ...base, gpu: ['none'], device_type: ['sargo'] },
    dropped: ['gpu: empty value', 'device_type: empty value'],
  },
  {
    name: 'removes a key whose values were all dropped',
    botOwn: { ...base, gpu: ['', ' '] },
    agentOwned: {},
    want: { ...base },
    dropped: ['gpu: empty value', 'gpu: empty value'],
  },
  {
    name: 'deduplicates keeping the first occurrence order, also after trimming',
    botOwn: { ...base },
    agentOwned: { device_type: ['sargo', 'b', 'sargo ', 'a', 'b'] },
    want: { ...base, device_type: ['sargo', 'b', 'a'] },
    dropped: [],
  },
  {
    name: 'drops a value longer than the limit instead of truncating it',
    botOwn: { ...base },
    agentOwned: { device_os: [long, 'Q'] },
    want: { ...base, device_os: ['Q'] },
    dropped: [`device_os: value "${'x'.repeat(40)}"... is longer than 256 characters`],
  },
  {
    name: 'keeps a value of exactly the limit, counted in code points',
    botOwn: { ...base },
    agentOwned: { a: [longest], b: [astral] },
    want: { ...base, a: [longest], b: [astral] },
    dropped: [],
  },
  {
    name: 'drops keys with characters Swarming rejects',
    botOwn: { ...base, 'bad key': ['1'], '9starts_with_digit': ['1'], 'colon:key': ['1'] },
    agentOwned: { unicodé: ['1'], '': ['1'] },
    want: { ...base },
    dropped: [
      'key "bad key" has characters',
      'key "9starts_with_digit" has characters',
      'key "colon:key" has characters',
      'key "unicodé" has characters',
      'key "" has characters',
    ],
  },
  {
    name: 'accepts keys starting with - _ . and containing digits',
    botOwn: { ...base, '-a': ['1'], _b9: ['1'], '.c.d-e_f': ['1'] },
    agentOwned: {},
    want: { ...base, '-a': ['1'], _b9: ['1'], '.c.d-e_f': ['1'] },
    dropped: [],
  },
  {
    name: 'keys of exactly 64 characters pass, 65 are dropped',
    botOwn: {
      ...base,
      ['k'.repeat(MAX_KEY_LENGTH)]: ['1'],
      ['l'.repeat(MAX_KEY_LENGTH + 1)]: ['1'],
    },
    agentOwned: {},
    want: { ...base, ['k'.repeat(MAX_KEY_LENGTH)]: ['1'] },
    dropped: [`key "${'l'.repeat(64)}"... is longer than 64 characters`],
  },
  {
    name: 'id is forced to the bot id whatever the bot said',
    botOwn: { id: ['hostname', 'other'], pool: ['android'] },
    agentOwned: {},
    want: { ...base },
    dropped: ['id ["hostname","other"] replaced by ["pi-1-usb-1-1.3"]'],
  },
  {
    name: 'id is forced to the bot id whatever the agent said',
    botOwn: { ...base },
    agentOwned: { id: ['evil'] },
    want: { ...base },
    dropped: [],
  },
  {
    name: 'id is added when the bot sent none, and an empty id list is replaced',
    botOwn: { pool: ['android'], id: [] },
    agentOwned: {},
    want: { ...base },
    dropped: ['id [] replaced by ["pi-1-usb-1-1.3"]'],
  },
  {
    name: 'FARM_POOL replaces the pool the bot reports (the real bot always says default)',
    botOwn: { id: ['pi-1-usb-1-1.3'], pool: ['default'] },
    agentOwned: {},
    want: { ...base },
    dropped: [],
  },
  {
    name: 'FARM_POOL is reported when the bot names no pool or only blanks',
    botOwn: { id: ['pi-1-usb-1-1.3'], pool: [' '] },
    agentOwned: {},
    want: { ...base },
    dropped: ['pool: empty value'],
  },
  {
    name: 'without FARM_POOL the bot keeps its own pool',
    botOwn: { ...base, pool: ['skia', 'default'] },
    agentOwned: {},
    opts: { botId: opts.botId },
    want: { id: base.id, pool: ['skia', 'default'] },
    dropped: [],
  },
  {
    name: 'without FARM_POOL no pool is invented (the server’s bots.cfg sets it)',
    botOwn: { id: ['pi-1-usb-1-1.3'] },
    agentOwned: {},
    opts: { botId: opts.botId },
    want: { id: base.id },
    dropped: [],
  },
];

describe('mergeDimensions', () => {
  it.each(cases)('$name', (c) => {
    const { botOwn, agentOwned, want, dropped } = c;
    const got = mergeDimensions(botOwn, agentOwned, c.opts ?? opts);
    expect(got.dimensions).toStrictEqual(want);
    expect(got.dropped).toHaveLength(dropped.length);
    dropped.forEach((fragment, i) => expect(got.dropped[i]).toContain(fragment));
  });

  it('keeps the bot’s key order, the agent’s keys in place, and its new keys after', () => {
    const got = mergeDimensions(
      { id: ['x'], os: ['Linux'], cores: ['4'], pool: ['default'] },
      { device_type: ['sargo'], os: ['Android'] },
      { botId: 'x' },
    );
    expect(JSON.stringify(got.dimensions)).toBe(
      '{"os":["Android"],"cores":["4"],"pool":["default"],"device_type":["sargo"],"id":["x"]}',
    );
  });

  it('takes keys named like an object’s own members from the inputs, never from Object', () => {
    const got = mergeDimensions({ constructor: ['bot'] }, { toString: ['agent'] }, opts);
    // Compared as entries: an object whose own `constructor` is an array is no plain object to vitest.
    expect(Object.entries(got.dimensions)).toStrictEqual([
      ['constructor', ['bot']],
      ['toString', ['agent']],
      ['id', base.id],
      ['pool', base.pool],
    ]);
    expect(got.dropped).toStrictEqual([]);
  });

  it('does not modify its inputs', () => {
    const botOwn = { id: ['x'], os: [' Linux '] };
    const agentOwned = { os: ['Android', 'Android'] };
    mergeDimensions(botOwn, agentOwned, opts);
    expect(botOwn).toStrictEqual({ id: ['x'], os: [' Linux '] });
    expect(agentOwned).toStrictEqual({ os: ['Android', 'Android'] });
  });
});
