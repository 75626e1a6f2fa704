import { describe, expect, it } from 'vitest';
import {
  hostOverridesOf,
  noOverrideSources,
  overridesBySlot,
  overridesForSlot,
  withLocalOverride,
  type OverrideSources,
} from './override-sources.js';

const sources: OverrideSources = {
  cluster: {
    node: { maintenance: 'rack 4 rewiring' },
    slots: { 'usb-1-1-3': { quarantine: 'cracked screen' } },
  },
  local: { node: { maintenance: 'flashing' }, slots: {} },
  host: hostOverridesOf('host too hot: 81 °C'),
};

describe('override sources', () => {
  it('merges cluster, local and host reasons in that order', () => {
    expect(overridesForSlot(sources, 'usb-1-1-3')).toEqual({
      maintenance: 'rack 4 rewiring; flashing; host too hot: 81 °C',
      quarantine: 'cracked screen',
    });
  });

  it('a healthy host adds nothing', () => {
    expect(hostOverridesOf(undefined)).toEqual({ node: {}, slots: {} });
    expect(overridesForSlot({ ...sources, host: hostOverridesOf(undefined) }, 'usb-1-1-4')).toEqual(
      { maintenance: 'rack 4 rewiring; flashing' },
    );
  });

  it('a local command changes only the local source', () => {
    const next = withLocalOverride(noOverrideSources(), 'quarantine', 'usb-1-1-4', 'flaky usb');
    expect(next.cluster).toEqual({ node: {}, slots: {} });
    expect(next.host).toEqual({ node: {}, slots: {} });
    expect(overridesForSlot(next, 'usb-1-1-4')).toEqual({ quarantine: 'flaky usb' });
    const cleared = withLocalOverride(next, 'quarantine', 'usb-1-1-4', undefined);
    expect(overridesForSlot(cleared, 'usb-1-1-4')).toEqual({});
  });

  it('lists every named slot, node-wide reasons on each', () => {
    expect(
      overridesBySlot(
        {
          ...noOverrideSources(),
          host: sources.host,
          cluster: { node: {}, slots: sources.cluster.slots },
        },
        ['usb-1-1-3', 'usb-1-1-4'],
      ),
    ).toEqual({
      'usb-1-1-3': { maintenance: 'host too hot: 81 °C', quarantine: 'cracked screen' },
      'usb-1-1-4': { maintenance: 'host too hot: 81 °C' },
    });
  });
});
