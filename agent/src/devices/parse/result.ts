/**
 * The one result shape every device-output parser returns. Parsers never
 * throw: adb output is whatever the phone, the shell and adb made of it, and
 * a parse failure must become a visible health reason, not a crashed poll.
 *
 * `ok: true` carries everything that could be read (fields that were not in
 * the output are absent); `ok: false` means the text was not the output we
 * asked for at all (an adb error, a missing service, garbage).
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parsed<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

/** Longest excerpt of the offending text quoted in a failure reason. */
const EXCERPT_CHARS = 80;

export function notParsed<T>(what: string, text: string): Parsed<T> {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: `${what}: empty output` };
  const excerpt =
    trimmed.length > EXCERPT_CHARS ? `${trimmed.slice(0, EXCERPT_CHARS)}...` : trimmed;
  return { ok: false, reason: `${what}: ${JSON.stringify(excerpt)}` };
}

/**
 * Splits shell output into lines without their terminators. Old adb (no
 * shell_v2) turns every LF into CRLF, sometimes CRCRLF through a pty, so all
 * carriage returns before a newline go too.
 */
export function outputLines(text: string): string[] {
  return text.split('\n').map((line) => line.replace(/\r+$/, ''));
}
