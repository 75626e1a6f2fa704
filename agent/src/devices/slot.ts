import { botIdPatternProblem, PLACEHOLDER } from '../config/bot-id-pattern.js';
import { parseSwarmingId } from '../config/parse.js';

/**
 * A USB port path as `adb get-devpath` prints it on Linux: `usb:<bus>-<port>`
 * then `.<port>` per hub on the way, e.g. `usb:1-1.3`. Numbers start at 1.
 */
const USB_PATH = /^usb:([1-9]\d*)-([1-9]\d*(?:\.[1-9]\d*)*)$/;

/**
 * The identity of a slot: the USB port the phone is plugged into, so a phone
 * swapped in the same port takes over its slot (and bot), or the serial of
 * a TCP device (`adb get-devpath` answers `unknown` for those).
 */
export function slotKey(devicePath: string | undefined, serial: string): string {
  const path = devicePath?.trim() ?? '';
  return USB_PATH.test(path) ? path : serial;
}

/** DNS labels are at most 63 characters. */
const MAX_LABEL = 63;

/**
 * A stable DNS-label-like name for a slot (lower case letters, digits and
 * inner dashes), usable in bot ids, Kubernetes names and metric labels:
 * `usb:1-1.3` gives `usb-1-1-3` (a USB path has a single dash, so no two
 * paths give the same name), `192.168.1.20:5555` gives `192-168-1-20-5555`.
 * Names that would be longer than a label keep their start and end in an
 * FNV-1a hash of the whole key, so they stay distinct.
 */
export function slotName(key: string): string {
  const label = key
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (label === '') return `slot-${fnv1a(key)}`;
  if (label.length <= MAX_LABEL) return label;
  return `${label.slice(0, MAX_LABEL - 9).replace(/-+$/, '')}-${fnv1a(key)}`;
}

/** 32-bit FNV-1a of the UTF-16 code units, as 8 hex digits. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

export interface BotIdParts {
  /** The Kubernetes node name. */
  node: string;
  /** The slot key (`usb:1-1.3` or a serial); it enters the id as its slotName. */
  slot: string;
  /** The slot's position on the node. */
  index: number;
}

export type BotIdResult = { ok: true; botId: string } | { ok: false; reason: string };

/** The bot id of a slot from the configured pattern. */
export function botIdFor(pattern: string, parts: BotIdParts): BotIdResult {
  const problem = botIdPatternProblem(pattern);
  if (problem !== undefined) return { ok: false, reason: problem };
  if (!Number.isSafeInteger(parts.index) || parts.index < 0) {
    return { ok: false, reason: `slot index ${parts.index} is not a non-negative integer` };
  }
  const values: Record<string, string> = {
    node: parts.node,
    slot: slotName(parts.slot),
    index: String(parts.index),
  };
  const botId = pattern.replace(PLACEHOLDER, (_, name: string) => values[name] ?? '');
  try {
    // The same rule as FARM_BOT_ID: the id is the bot's `id` dimension.
    return { ok: true, botId: parseSwarmingId(botId) };
  } catch (error) {
    return {
      ok: false,
      reason: `bot id ${JSON.stringify(botId)} is not valid: ${(error as Error).message}`,
    };
  }
}

export interface UhubctlTarget {
  /** The hub's location for `uhubctl -l`: `1-1`, or the bus number for a root hub port. */
  hub: string;
  /** The port on that hub for `uhubctl -p`. */
  port: number;
}

/**
 * `usb:1-1.3` is port 3 of hub `1-1` (`uhubctl -l 1-1 -p 3`); `usb:1-2` is
 * port 2 of the root hub of bus 1 (`-l 1 -p 2`). Null for a TCP device or
 * anything that is not a Linux USB path.
 */
export function uhubctlTarget(devicePath: string): UhubctlTarget | null {
  const match = USB_PATH.exec(devicePath.trim());
  if (match === null) return null;
  const [, bus = '', chain = ''] = match;
  const ports = chain.split('.');
  const port = Number(ports.pop());
  const hub = ports.length === 0 ? bus : `${bus}-${ports.join('.')}`;
  return { hub, port };
}
