import { describe, expect, it } from 'vitest';
import { joinReasons, mergeState } from './state.js';

const own = { running_time: 1234, sleep_streak: 7, disks: { '/': { free_mb: 1000 } } };

describe('mergeState', () => {
  it.each([
    {
      name: 'passes the bot state through when the agent has nothing to say',
      owned: {},
      want: own,
    },
    {
      name: 'sets quarantined to the reason',
      owned: { quarantined: 'crash loop' },
      want: { ...own, quarantined: 'crash loop' },
    },
    {
      name: 'sets maintenance to the reason',
      owned: { maintenance: 'battery 12% < 30%' },
      want: { ...own, maintenance: 'battery 12% < 30%' },
    },
    {
      name: 'sets both',
      owned: { quarantined: 'q', maintenance: 'm' },
      want: { ...own, quarantined: 'q', maintenance: 'm' },
    },
    {
      name: 'an empty reason sets nothing',
      owned: { quarantined: '', maintenance: '' },
      want: own,
    },
  ])('$name', ({ owned, want }) => {
    expect(mergeState(own, owned)).toStrictEqual(want);
  });

  it('drops the bot own quarantined and maintenance: the agent owns them', () => {
    const botOwn = { ...own, quarantined: 'bot says', maintenance: true };
    expect(mergeState(botOwn, {})).toStrictEqual(own);
    expect(mergeState(botOwn, { quarantined: 'agent says' })).toStrictEqual({
      ...own,
      quarantined: 'agent says',
    });
  });

  it('keeps running_time and sleep_streak and does not modify its input', () => {
    const botOwn = { ...own, quarantined: 'x' };
    const got = mergeState(botOwn, { maintenance: 'm' });
    expect(got['running_time']).toBe(1234);
    expect(got['sleep_streak']).toBe(7);
    expect(botOwn).toStrictEqual({ ...own, quarantined: 'x' });
  });
});

describe('joinReasons', () => {
  it.each([
    { reasons: [], want: undefined },
    { reasons: [undefined, undefined], want: undefined },
    { reasons: ['', '  '], want: undefined },
    { reasons: ['crash loop', undefined], want: 'crash loop' },
    { reasons: [undefined, 'device missing'], want: 'device missing' },
    { reasons: ['crash loop', 'device missing'], want: 'crash loop; device missing' },
  ])('$reasons -> $want', ({ reasons, want }) => {
    expect(joinReasons(...reasons)).toBe(want);
  });
});
