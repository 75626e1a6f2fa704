import { describe, expect, it } from 'vitest';
import { NOW, node, phone } from '../../../test/rigs/fleet-fixtures.js';
import { parseChoiceWeights, parseCountsByType } from '../config/gate-settings.js';
import { planStandby } from './standby.js';

const WEIGHTS = parseChoiceWeights('battery=1');
const plan = (fleet: Parameters<typeof planStandby>[0], setting: string) =>
  planStandby(fleet, parseCountsByType(setting), NOW, WEIGHTS);

describe('planStandby', () => {
  it('holds idleTarget idle phones per type beside the busy ones, the fullest first', () => {
    const fleet = [
      node('pi-1', [
        phone('pi-1', 'a', { battery: 40 }),
        phone('pi-1', 'b', { battery: 90 }),
        phone('pi-1', 'c', { state: 'busy' }),
      ]),
      node('pi-2', [phone('pi-2', 'w', { type: 'walleye' })]),
    ];
    const p = plan(fleet, 'sargo=1,*=0');
    expect(Object.fromEntries(p.changes)).toEqual({ 'pi-1': ['b'] });
    expect(p.byType).toEqual({
      sargo: { idleTarget: 1, busy: 1, held: 1 },
      walleye: { idleTarget: 0, busy: 0, held: 0 },
    });
    expect(p.wake).toEqual([]);
  });

  it('keeps the phones it already holds (no churn) and releases one that got busy', () => {
    const held = phone('pi-1', 'a', { battery: 10, held: true });
    const fleet = [node('pi-1', [held, phone('pi-1', 'b', { battery: 99 })])];
    expect(plan(fleet, 'sargo=1').changes.size).toBe(0);
    held.state = 'busy';
    expect(Object.fromEntries(plan(fleet, 'sargo=1').changes)).toEqual({ 'pi-1': ['b'] });
    held.state = 'ready';
    expect(Object.fromEntries(plan(fleet, '*=0').changes)).toEqual({ 'pi-1': [] });
  });

  it('wakes asleep phones when too few are awake, and skips unusable nodes', () => {
    const fleet = [
      node('pi-1', [phone('pi-1', 'z', { state: 'asleep', asleep: true })]),
      node('pi-2', [phone('pi-2', 'm', { state: 'maintenance' })]),
      node('pi-3', [phone('pi-3', 's')], { heartbeat: NOW - 120_000 }),
    ];
    const p = plan(fleet, 'sargo=2');
    expect(p.wake.map((x) => x.slot)).toEqual(['z']);
    expect(Object.fromEntries(p.changes)).toEqual({ 'pi-1': ['z'] });
    expect(p.byType.sargo).toEqual({ idleTarget: 2, busy: 0, held: 1 });
  });
});

describe('parseCountsByType', () => {
  it('refuses what it cannot mean', () => {
    expect(() => parseCountsByType('sargo')).toThrow(/name=value/);
    expect(() => parseCountsByType('sargo=-1')).toThrow(/whole number/);
    expect(() => parseCountsByType('sargo=1,sargo=2')).toThrow(/twice/);
    expect(() => parseCountsByType('sar go=1')).toThrow(/device type/);
    expect(parseCountsByType('sargo=1, *=0')).toEqual({ sargo: 1, '*': 0 });
  });
});
