import { describe, expect, it } from 'vitest';
import { isTcpSerial } from './tcp-devices.js';

describe('isTcpSerial', () => {
  it('recognises host:port serials', () => {
    expect(isTcpSerial('127.0.0.1:5555')).toBe(true);
    expect(isTcpSerial('pixel.lab:41234')).toBe(true);
    expect(isTcpSerial('[::1]:5555')).toBe(true);
  });

  it('rejects USB serials and adb’s other names', () => {
    expect(isTcpSerial('R58M40ABCDE')).toBe(false);
    expect(isTcpSerial('emulator-5554')).toBe(false);
    expect(isTcpSerial('adb-R58M40ABCDE-xyz._adb-tls-connect._tcp')).toBe(false);
    expect(isTcpSerial('host:notaport')).toBe(false);
  });
});
