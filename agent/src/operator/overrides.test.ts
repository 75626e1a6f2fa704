import { describe, expect, it } from 'vitest';
import {
  effectiveOverrides,
  noOverrides,
  withOverride,
  type OperatorOverrides,
} from './overrides.js';

const cluster: OperatorOverrides = {
  node: { maintenance: 'rack 4 rewiring' },
  slots: { 'usb-1-1-3': { quarantine: 'cracked screen' } },
};
const local: OperatorOverrides = { node: {}, slots: { 'usb-1-1-3': { maintenance: 'flashing' } } };

describe('effectiveOverrides', () => {
  it.each([
    ['usb-1-1-3', { maintenance: 'rack 4 rewiring; flashing', quarantine: 'cracked screen' }],
    ['usb-1-1-4', { maintenance: 'rack 4 rewiring' }],
  ])('slot %s gets %j', (slot, expected) => {
    expect(effectiveOverrides([cluster, local], slot)).toEqual(expected);
  });

  it('gives nothing when no source says anything', () => {
    expect(effectiveOverrides([noOverrides(), noOverrides()], 'usb-1-1-3')).toEqual({});
  });

  it('does not repeat the same reason from two places', () => {
    const both = { node: { quarantine: 'x' }, slots: { a: { quarantine: 'x' } } };
    expect(effectiveOverrides([both], 'a')).toEqual({ quarantine: 'x' });
  });
});

describe('withOverride', () => {
  it('sets and clears per slot without touching the input', () => {
    const set = withOverride(noOverrides(), 'maintenance', 'usb-1-1-3', 'flashing');
    expect(set).toEqual({ node: {}, slots: { 'usb-1-1-3': { maintenance: 'flashing' } } });
    expect(withOverride(set, 'maintenance', 'usb-1-1-3', undefined)).toEqual(noOverrides());
    expect(noOverrides()).toEqual({ node: {}, slots: {} });
  });

  it('sets and clears node-wide', () => {
    const set = withOverride(noOverrides(), 'quarantine', undefined, 'bad hub');
    expect(set.node).toEqual({ quarantine: 'bad hub' });
    expect(withOverride(set, 'quarantine', undefined, undefined).node).toEqual({});
  });
});
