import { describe, expect, it } from 'vitest';
import { explain } from './health-explanation.js';
import type { ExplanationFacts } from './health-explanation.js';

const gone: ExplanationFacts = {
  state: 'missing',
  reason: 'Device "x1s" has gone missing',
  deviceType: 'x1s',
  serial: 'R58N',
  byOperator: false,
  quarantined: true,
};

describe('explain', () => {
  it('names why a known phone vanished, from the kernel against adb', () => {
    expect(explain({ ...gone, usb: { present: false } })).toMatchObject({
      diagnosis: 'not on USB (cable, hub or power)',
      explanation: 'phone "x1s" (serial R58N) is gone: the kernel sees no device on its USB port',
    });
    expect(
      explain({
        ...gone,
        usb: { present: true, idVendor: '04e8', idProduct: '6860', serial: 'OTHER' },
      }),
    ).toMatchObject({
      diagnosis: 'on USB but not in adb',
      explanation:
        'USB lists 04e8:6860 serial OTHER on the port (a different device: serial OTHER), but adb does not list phone "x1s" (serial R58N)',
    });
    // A TCP phone has no port to look at.
    expect(explain(gone).diagnosis).toBe('gone from adb');
  });

  it('tells an unauthorized phone from an offline one', () => {
    const unauthorized = explain({ ...gone, state: 'unauthorized', reason: 'x' });
    expect(unauthorized.diagnosis).toBe(
      'unauthorized: accept the key on the phone, or the adb key was lost',
    );
    expect(unauthorized.suggestedAction).toContain('FARM_STATE_DIR');
    expect(explain({ ...gone, state: 'offline', reason: 'Device offline' }).diagnosis).toBe(
      'offline',
    );
  });

  it('says how to lift what an operator set, and to wait for what passes by itself', () => {
    expect(
      explain({ ...gone, state: 'quarantined', reason: 'cracked screen', byOperator: true }),
    ).toEqual({
      diagnosis: 'quarantined by an operator',
      explanation: 'cracked screen',
      suggestedAction: 'When done, lift it: farm-agent quarantine <slot> --clear',
    });
    expect(
      explain({ ...gone, state: 'booting', reason: 'Device booting', quarantined: false })
        .suggestedAction,
    ).toMatch(/^Wait/);
    expect(explain({ ...gone, state: 'booting', reason: 'not back' }).suggestedAction).toMatch(
      /^Reboot the phone by hand/,
    );
  });
});
