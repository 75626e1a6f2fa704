/**
 * Parsers for setting values. Each throws a plain message saying what was
 * expected; the loader adds the setting's name, so start-up errors read as
 * `FARM_HOOK_PORT="abc": expected a TCP port (1-65535)`.
 */

import { findUser, type BotUser } from '@farm-agent/bot-config';

export function parsePort(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 65535) throw new Error('expected a TCP port (1-65535)');
  return n;
}

export function parsePositiveInt(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1) throw new Error('expected a whole number of at least 1');
  return n;
}

export function parsePercent(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) {
    throw new Error('expected a percentage (0-100)');
  }
  return n;
}

export function parseCelsius(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < -40 || n > 150) {
    throw new Error('expected a temperature in °C (-40 to 150)');
  }
  return n;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Durations as people write them in a ConfigMap: `500ms`, `10s`, `15m`, `1h`. */
export function parseDuration(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  if (!match) throw new Error('expected a duration such as 500ms, 10s, 15m or 1h');
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms <= 0) throw new Error('expected a duration above zero');
  return Math.round(ms);
}

export function parseHttpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected an http(s) URL such as https://chromium-swarm.appspot.com');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error('expected an http(s) URL');
  }
  return raw.replace(/\/+$/, '');
}

export function parseHost(raw: string): string {
  if (!/^[0-9A-Za-z.:-]+$/.test(raw)) throw new Error('expected a host name or IP address');
  return raw;
}

/** A user from /etc/passwd the agent can start processes as: itself, or anyone when root. */
export function parseBotUser(raw: string): BotUser {
  const user = findUser(raw.trim());
  const me = process.getuid?.();
  if (me !== undefined && me !== 0 && me !== user.uid) {
    throw new Error(`the agent runs as uid ${me}, not root: it cannot start bots as ${user.name}`);
  }
  return user;
}

export function parseNonEmpty(raw: string): string {
  if (raw.trim() === '') throw new Error('expected a non-empty value');
  return raw.trim();
}

export function parseSwarmingId(raw: string): string {
  // The bot id becomes the `id` dimension, so it obeys the dimension value rules.
  if (!/^[0-9A-Za-z._-]{1,256}$/.test(raw)) {
    throw new Error('expected letters, digits, ".", "_" or "-" (at most 256)');
  }
  return raw;
}

export function parseEnum<T extends string>(allowed: readonly T[]): (raw: string) => T {
  return (raw) => {
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new Error(`expected one of ${allowed.join(', ')}`);
    }
    return raw as T;
  };
}

export function parseBoolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new Error('expected true or false');
}

/** `127.0.0.1:5555,phone-7.lab:5555`: adb TCP serials. */
export function parseTcpSerials(raw: string): string[] {
  const serials = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const serial of serials) {
    if (!/^[0-9A-Za-z.-]+:\d{1,5}$/.test(serial)) {
      throw new Error(`expected host:port entries separated by commas, got "${serial}"`);
    }
  }
  return serials;
}

const BYTE_UNITS = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 } as const;

/** Sizes as Kubernetes writes them: `500Mi`, `2Gi`, or plain bytes. */
export function parseBytes(raw: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(raw.trim());
  if (!match) throw new Error('expected a size such as 500Mi, 2Gi or a number of bytes');
  return Number(match[1]) * BYTE_UNITS[(match[2] ?? '') as keyof typeof BYTE_UNITS];
}
