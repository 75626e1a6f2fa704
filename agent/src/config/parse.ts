/**
 * Parsers for setting values. Each throws a plain message saying what was
 * expected; the loader adds the setting's name, so start-up errors read as
 * `FARM_HOOK_PORT="abc": expected a TCP port from 1 to 65535`.
 */

// The module alone, not the package's index: settings load before anything else at start-up.
import { findUser, type BotUser } from '@farm-agent/bot-config/bot-user';

/** A setting's parser; `allowed` says which values it takes, for the README table. */
export interface Parser<T> {
  (raw: string): T;
  allowed?: string;
}

/**
 * `parse` limited to `min`..`max` (written as a person would, e.g. `1s`,
 * `10m`), so a value that parses but makes no sense (a 1 ms Lease renewal,
 * 0 crashes allowed) stops start-up instead of hammering something.
 */
function within(
  parse: (raw: string) => number,
  what: string,
  min: string,
  max: string,
): Parser<number> {
  const [low, high] = [parse(min), parse(max)];
  const range = `from ${min} to ${max}`;
  const bounded = (raw: string): number => {
    let n: number | undefined;
    try {
      n = parse(raw);
    } catch {
      // Unparseable and out of range get the same message: it says both what and how much.
    }
    if (n === undefined || n < low || n > high) throw new Error(`expected ${what} ${range}`);
    return n;
  };
  return Object.assign(bounded, { allowed: `${min} – ${max}` });
}

function parseWholeNumber(raw: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new Error('expected a whole number');
  return Number(raw);
}

function parseNumber(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new Error('expected a number');
  return n;
}

/** A count such as crashes tolerated or idle checks. */
export function countIn(min: number, max: number): Parser<number> {
  return within(parseWholeNumber, 'a whole number', String(min), String(max));
}

/** An interval or timeout, e.g. `durationIn('1s', '10m')`. */
export function durationIn(min: string, max: string): Parser<number> {
  return within(parseDuration, 'a duration (ms, s, m or h)', min, max);
}

/** A size, e.g. `bytesIn('0', '1Ti')`. */
export function bytesIn(min: string, max: string): Parser<number> {
  return within(parseBytes, 'a size (bytes, Ki, Mi, Gi or Ti)', min, max);
}

export function percentIn(min: number, max: number): Parser<number> {
  return within(parseNumber, 'a percentage', String(min), String(max));
}

export const parsePort = within(parseWholeNumber, 'a TCP port', '1', '65535');

/** Phones and Pis alike: below -40 or above 150 °C is a typo, not a threshold. */
export const parseCelsius = within(parseNumber, 'a temperature in °C', '-40', '150');

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Durations as people write them in a ConfigMap: `500ms`, `10s`, `15m`, `1h`.
 * Settings use `durationIn`; this is for durations read from elsewhere.
 */
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
export const parseBotUser: Parser<BotUser> = Object.assign(
  (raw: string): BotUser => {
    const user = findUser(raw.trim());
    const me = process.getuid?.();
    if (me !== undefined && me !== 0 && me !== user.uid) {
      throw new Error(
        `the agent runs as uid ${me}, not root: it cannot start bots as ${user.name}`,
      );
    }
    return user;
  },
  { allowed: 'a user name or uid in `/etc/passwd`' },
);

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

export function parseEnum<T extends string>(allowed: readonly T[]): Parser<T> {
  const parse = (raw: string): T => {
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new Error(`expected one of ${allowed.join(', ')}`);
    }
    return raw as T;
  };
  return Object.assign(parse, { allowed: allowed.map((a) => `\`${a}\``).join(', ') });
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

const BYTE_UNITS = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 } as const;

/** Sizes as Kubernetes writes them: `500Mi`, `2Gi`, or plain bytes. */
function parseBytes(raw: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(raw.trim());
  if (!match) throw new Error('expected a size such as 500Mi, 2Gi or a number of bytes');
  return Number(match[1]) * BYTE_UNITS[(match[2] ?? '') as keyof typeof BYTE_UNITS];
}
