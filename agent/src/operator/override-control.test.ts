import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { OverrideControl } from './override-control.js';
import type { OverrideSet } from './overrides.js';

function control(): { control: OverrideControl; applied: () => OverrideSet } {
  let forSlot: (slot: string) => OverrideSet = () => ({});
  const c = new OverrideControl({
    apply: (f) => {
      forSlot = f;
    },
    logger: pino({ level: 'silent' }),
  });
  return { control: c, applied: () => forSlot('usb-1-1-3') };
}

describe('OverrideControl', () => {
  it('standalone, a command applies at once and the host reason joins it', async () => {
    const { control: c, applied } = control();
    await c.set('quarantine', 'usb-1-1-3', 'cracked screen');
    expect(applied()).toEqual({ quarantine: 'cracked screen' });
    c.hostMaintenance('host too hot');
    expect(applied()).toEqual({ quarantine: 'cracked screen', maintenance: 'host too hot' });
    c.hostMaintenance(undefined);
    expect(applied()).toEqual({ quarantine: 'cracked screen' });
    expect(c.bySlot(['usb-1-1-3'])).toEqual({ 'usb-1-1-3': { quarantine: 'cracked screen' } });
  });

  it('with a cluster, a command is written there and applies only when read back', async () => {
    const { control: c, applied } = control();
    const written: unknown[][] = [];
    c.useCluster(async (...args) => {
      written.push(args);
    });
    await c.set('maintenance', undefined, 'rack 4 rewiring');
    expect(written).toEqual([['maintenance', undefined, 'rack 4 rewiring']]);
    expect(applied()).toEqual({});
    c.clusterRead({ node: { maintenance: 'rack 4 rewiring' }, slots: {} });
    expect(applied()).toEqual({ maintenance: 'rack 4 rewiring' });
  });
});
