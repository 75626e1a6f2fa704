import { notParsed, parsed } from './result.js';
import type { Parsed } from './result.js';

/** `<seconds up> <seconds idle summed over cores>`, both with two decimals. */
const PROC_UPTIME = /^(\d+(?:\.\d+)?)\s+\d+(?:\.\d+)?$/;

/** Parses `cat /proc/uptime` into the seconds since the device booted. */
export function parseProcUptime(text: string): Parsed<number> {
  const match = PROC_UPTIME.exec(text.trim());
  return match === null ? notParsed('not /proc/uptime', text) : parsed(Number(match[1]));
}
