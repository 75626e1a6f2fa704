import { describe, expect, it } from 'vitest';
import { adbLogLevel } from './adb-server.js';

describe('adbLogLevel', () => {
  it('maps the level letter of adb’s log lines', () => {
    expect(adbLogLevel('adb I 11-23 18:44:10  4790  4808 transport.cpp:695] x')).toBe('info');
    expect(adbLogLevel('adb W 11-23 18:44:10  1 2 adb.cpp:1] x')).toBe('warn');
    expect(adbLogLevel('adb E 11-23 18:44:10  1 2 adb.cpp:1] x')).toBe('error');
    expect(adbLogLevel('adb F 11-23 18:44:10  1 2 adb.cpp:1] x')).toBe('error');
    expect(adbLogLevel('adb D 11-23 18:44:10  1 2 adb.cpp:1] x')).toBe('debug');
    expect(adbLogLevel('adb V 11-23 18:44:10  1 2 adb.cpp:1] x')).toBe('debug');
  });

  it('logs anything else (the CLI’s own messages) at info', () => {
    expect(adbLogLevel('* daemon started successfully')).toBe('info');
    expect(adbLogLevel('adb X not a level')).toBe('info');
  });
});
