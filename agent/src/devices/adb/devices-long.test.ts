import { describe, expect, it } from 'vitest';
import { parseDeviceList } from './devices-long.js';

describe('parseDeviceList', () => {
  it('finds the USB port of devices in every state, and none for TCP devices', () => {
    const text = [
      'R58M12ABCDE            device usb:1-1.3 product:x1sxx model:SM_G980F device:x1s transport_id:3',
      'R58M99ZZZZZ            unauthorized usb:1-1.2 transport_id:4',
      '0123456789ABCDEF       no permissions (user in plugdev group; are your udev rules wrong?); see [http://developer.android.com/tools/device.html] usb:1-1.4 transport_id:5',
      'HT7A1B2C3D4           offline usb:2-1 transport_id:7',
      '127.0.0.1:5555         offline transport_id:6',
      '192.168.1.20:5555      device product:oriole model:Pixel_6 device:oriole transport_id:8',
      '',
    ].join('\n');
    expect(Object.fromEntries(parseDeviceList(text))).toEqual({
      R58M12ABCDE: 'usb:1-1.3',
      R58M99ZZZZZ: 'usb:1-1.2',
      '0123456789ABCDEF': 'usb:1-1.4',
      HT7A1B2C3D4: 'usb:2-1',
      '127.0.0.1:5555': undefined,
      '192.168.1.20:5555': undefined,
    });
  });

  it('ignores an empty list and noise', () => {
    expect(parseDeviceList('').size).toBe(0);
    expect(parseDeviceList('usb:1-1\n\n').size).toBe(0);
  });
});
