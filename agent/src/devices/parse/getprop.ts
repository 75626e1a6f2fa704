import { notParsed, outputLines, parsed } from './result.js';
import type { Parsed } from './result.js';

export interface Properties {
  props: ReadonlyMap<string, string>;
  /** Non-blank lines that were not part of any property (stderr noise, truncated values). */
  unparsed: number;
}

/**
 * `[key]: [value` opening a property. Property names never contain `]`, so
 * the key ends at the first one; the value may contain `]` and `:` itself,
 * so it ends at the LAST `]` of the line (or of a later line, see below).
 */
const PROPERTY_START = /^\[([^\]]+)\]:\s*\[(.*)$/;

/**
 * Parses the full output of `adb shell getprop`.
 *
 * A value containing a newline is printed across several lines with its
 * closing `]` on the last one, so a line that opens a property without
 * closing it collects the following lines until one ends with `]`. A new
 * property opening before that means the pending value was cut off: it is
 * dropped rather than stored half-read.
 */
export function parseGetprop(text: string): Parsed<Properties> {
  const props = new Map<string, string>();
  let unparsed = 0;
  let pending: { key: string; lines: string[] } | undefined;

  // Trailing blanks after the closing `]` are noise, not part of the value.
  for (const line of outputLines(text).map((l) => l.trimEnd())) {
    const start = PROPERTY_START.exec(line);
    if (pending !== undefined) {
      if (start === null) {
        pending.lines.push(line);
        if (line.endsWith(']')) {
          props.set(pending.key, pending.lines.join('\n').slice(0, -1));
          pending = undefined;
        }
        continue;
      }
      unparsed += nonBlank(pending.lines);
      pending = undefined;
    }
    if (start === null) {
      unparsed += nonBlank([line]);
      continue;
    }
    const [, key = '', rest = ''] = start;
    if (rest.endsWith(']')) props.set(key, rest.slice(0, -1));
    else pending = { key, lines: [rest] };
  }
  if (pending !== undefined) unparsed += nonBlank(pending.lines);

  if (props.size === 0) return notParsed('no properties in getprop output', text);
  return parsed({ props, unparsed });
}

function nonBlank(lines: readonly string[]): number {
  return lines.filter((line) => line.trim() !== '').length;
}

/**
 * `sys.boot_completed` is `1` once Android has finished booting and empty
 * before. Anything else (an adb error merged into the output, `0`) reads as
 * not booted: that is the safe answer, it only delays tasks.
 */
export function isBootCompleted(value: string | undefined): boolean {
  return value?.trim() === '1';
}
