import { describe, expect, it } from 'vitest';
import { findSlot, formatDevices } from './devices.js';

describe('formatDevices', () => {
  it('prints one aligned row per slot', () => {
    const text = formatDevices([
      {
        slot: 'usb:1-1.3',
        botId: 'pi-7-usb-1-1-3',
        serial: 'R58M12ABCDE',
        state: 'ready',
        batteryPercent: 87,
        temperatureC: 31.25,
        props: { 'ro.product.model': 'SM-G980F' },
      },
      {
        slot: 'usb:1-1.4',
        botId: 'pi-7-usb-1-1-4',
        state: 'missing',
        diagnosis: 'not on USB (cable, hub or power)',
        reason: 'Device "x1s" has gone missing: not on USB (cable, hub or power)',
      },
    ]);
    expect(text.split('\n')).toEqual([
      'SLOT       BOT             SERIAL       MODEL     STATE    WHY                               BATTERY  TEMP    REASON',
      'usb:1-1.3  pi-7-usb-1-1-3  R58M12ABCDE  SM-G980F  ready    -                                 87%      31.3°C  -',
      'usb:1-1.4  pi-7-usb-1-1-4  -            -         missing  not on USB (cable, hub or power)  -        -       Device "x1s" has gone missing: not on USB (cable, hub or power)',
    ]);
  });

  it('says so when there are no slots', () => {
    expect(formatDevices([])).toContain('no phone slots');
  });
});

describe('findSlot', () => {
  const slots = [{ slot: 'usb:1-1.3', name: 'usb-1-1-3', botId: 'pi-usb-1-1-3', index: 0 }];
  it.each(['usb:1-1.3', 'usb-1-1-3', 'pi-usb-1-1-3', '0'])('finds a slot by %s', (wanted) => {
    expect(findSlot(slots, wanted)).toBe(slots[0]);
  });
  it('finds nothing for an unknown name', () => {
    expect(findSlot(slots, 'usb:9')).toBeUndefined();
  });
});
