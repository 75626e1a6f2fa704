import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProcUptime } from './uptime.js';

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseProcUptime', () => {
  it.each([
    ['uptime-android6-crlf.txt', 8421.37],
    ['uptime-android14.txt', 1235043.93],
  ])('%s', (name, seconds) => {
    expect(parseProcUptime(fixture(name))).toEqual({ ok: true, value: seconds });
  });

  it.each([
    ['135.7 523.8', 135.7],
    ['0.00 0.00\n', 0],
    ['42 7', 42],
  ])('%j -> %s', (text, seconds) => {
    expect(parseProcUptime(text)).toEqual({ ok: true, value: seconds });
  });

  it.each([
    ['', 'not /proc/uptime: empty output'],
    ['135.7', 'not /proc/uptime: "135.7"'],
    ['-5.0 1.0', 'not /proc/uptime: "-5.0 1.0"'],
    ['135.7 523.8 9', 'not /proc/uptime: "135.7 523.8 9"'],
    ['1e3 2', 'not /proc/uptime: "1e3 2"'],
    [
      'cat: /proc/uptime: Permission denied',
      'not /proc/uptime: "cat: /proc/uptime: Permission denied"',
    ],
  ])('%j fails with a reason', (text, reason) => {
    expect(parseProcUptime(text)).toEqual({ ok: false, reason });
  });
});
