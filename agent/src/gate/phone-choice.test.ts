import { describe, expect, it } from 'vitest';
import { NOW, node, phone } from '../../../test/rigs/fleet-fixtures.js';
import { parseChoiceWeights } from '../config/gate-settings.js';
import { choosePhone, parseDimensionQuery } from './phone-choice.js';

const WEIGHTS = parseChoiceWeights('battery=1,temperature=1,idle=0.5,failures=2');
const SARGO = { device_type: ['sargo'] };
const chosen = (choice: ReturnType<typeof choosePhone>) =>
  'found' in choice ? `${choice.found.phone.node}/${choice.found.phone.slot}` : choice;

describe('choosePhone', () => {
  it('takes a ready phone before an asleep one before a resting one, whatever their scores', () => {
    const resting = phone('pi-1', 'a', { state: 'booting', battery: 100 });
    const asleep = phone('pi-2', 'b', { state: 'asleep', asleep: true, battery: 100 });
    const ready = phone('pi-3', 'c', { battery: 5 });
    const fleet = [node('pi-1', [resting]), node('pi-2', [asleep]), node('pi-3', [ready])];
    expect(chosen(choosePhone(fleet, SARGO, NOW, WEIGHTS))).toBe('pi-3/c');
    ready.state = 'busy';
    expect(chosen(choosePhone(fleet, SARGO, NOW, WEIGHTS))).toBe('pi-2/b');
    asleep.state = 'maintenance';
    asleep.asleep = false;
    expect(chosen(choosePhone(fleet, SARGO, NOW, WEIGHTS))).toBe('pi-1/a');
  });

  it('within a tier: battery, temperature, idle time and recent failures, by their weights', () => {
    const fleet = [
      node('pi-1', [
        phone('pi-1', 'full-hot', { battery: 100, temperatureC: 45 }),
        phone('pi-1', 'half-cool', { battery: 60, temperatureC: 25 }),
      ]),
    ];
    expect(chosen(choosePhone(fleet, SARGO, NOW, WEIGHTS))).toBe('pi-1/half-cool');
    const batteryOnly = parseChoiceWeights('battery=1');
    expect(chosen(choosePhone(fleet, SARGO, NOW, batteryOnly))).toBe('pi-1/full-hot');
    const failures = (id: string) => (id === 'pi-1/half-cool' ? 1 : 0);
    expect(chosen(choosePhone(fleet, SARGO, NOW, WEIGHTS, failures))).toBe('pi-1/full-hot');
  });

  it('matches every dimension value asked for, as Swarming does', () => {
    const fleet = [
      node('pi-1', [
        phone('pi-1', 'q', { dimensions: { device_type: ['sargo'], device_os: ['Q', 'QQ1A'] } }),
        phone('pi-1', 'r', { dimensions: { device_type: ['sargo'], device_os: ['R'] } }),
      ]),
    ];
    const want = (q: string) => {
      const parsed = parseDimensionQuery(new URLSearchParams(q));
      if ('error' in parsed) throw new Error(parsed.error);
      return chosen(choosePhone(fleet, parsed.dimensions, NOW, WEIGHTS));
    };
    expect(want('device_type=sargo&device_os=R')).toBe('pi-1/r');
    expect(want('device_os=Q&device_os=QQ1A')).toBe('pi-1/q');
  });

  it('skips nodes with a stale heartbeat, no address or in maintenance: busy, not none', () => {
    const fleet = [
      node('pi-1', [phone('pi-1', 'a')], { heartbeat: NOW - 61_000 }),
      node('pi-2', [phone('pi-2', 'b')], { address: undefined }),
      node('pi-3', [phone('pi-3', 'c')], { maintenance: 'updating' }),
      node('pi-4', [phone('pi-4', 'd', { state: 'busy' })]),
    ];
    expect(choosePhone(fleet, SARGO, NOW, WEIGHTS)).toEqual({
      busy: { 'node unreachable': 3, busy: 1 },
      matching: 4,
    });
  });

  it('says what exists when nothing matches', () => {
    const fleet = [node('pi-1', [phone('pi-1', 'a'), phone('pi-1', 'b', { type: 'walleye' })])];
    expect(choosePhone(fleet, { device_type: ['bluejay'] }, NOW, WEIGHTS)).toEqual({
      none: { device_type: { sargo: 1, walleye: 1 } },
    });
  });
});

describe('parseDimensionQuery', () => {
  it('refuses what is not a dimension, with the reason', () => {
    expect(parseDimensionQuery([['device type', 'x']])).toEqual({
      error: '"device type" is not a dimension name',
    });
    expect(parseDimensionQuery([['device_os', ' ']])).toEqual({ error: 'device_os is empty' });
    expect(parseDimensionQuery([['a', 'x'.repeat(257)]])).toHaveProperty('error');
    expect(parseDimensionQuery([])).toEqual({ dimensions: {} });
  });
});
