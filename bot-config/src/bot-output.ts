/**
 * Turns the bot's output lines into log records at the right level, and keeps
 * known noise from flooding the log. Pure: no I/O, the clock is passed in.
 *
 * The Swarming bot logs with python's logging through luci's
 * `logging_utils` (`<pid> <UTC date time> <E|W|I|D|C>: <message>`, ERROR and
 * above on stderr); tasks and tracebacks print raw lines. A line that is not a
 * record continues the record before it on the same stream (python writes a
 * message with its traceback in one go), except that a raw traceback is an
 * error on its own.
 */

export type BotLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface BotLine {
  level: BotLogLevel;
  /** The message without the record prefix. */
  message: string;
  /** The python process that logged it, when the line is a record. */
  pid?: number;
  /** Set on the first line of a noise kind let through: what it is and that repeats are held. */
  noise?: string;
  /** Repeats of this noise kind dropped since it was last let through. */
  suppressed?: number;
}

/**
 * A known harmless message: the first one is logged (at most as a warning),
 * then at most one per interval, with the count of those dropped in between.
 */
export interface NoiseRule {
  kind: string;
  pattern: RegExp;
}

/**
 * On a headless host (every Pi) the bot's display probes run `xrandr` each
 * poll and log its absence as ERROR twice; nothing is wrong.
 */
export const KNOWN_NOISE: readonly NoiseRule[] = [
  {
    kind: 'xrandr on a headless host',
    pattern: /^(is_display_attached|get_display_resolution)\(\): .*xrandr/,
  },
];

const SEVERITY: Record<string, BotLogLevel> = {
  D: 'debug',
  DEBUG: 'debug',
  I: 'info',
  INFO: 'info',
  W: 'warn',
  WARNING: 'warn',
  E: 'error',
  ERROR: 'error',
  C: 'fatal',
  CRITICAL: 'fatal',
};

// `1234 2026-08-20 11:00:12.345 E: msg` (the bot) or `1234 2026-08-20 11:00:12.345: ERROR msg`.
const RECORD =
  /^(\d+) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[.,]\d+)?(?: ([DIWEC]):|: (DEBUG|INFO|WARNING|ERROR|CRITICAL)) ?(.*)$/;

export interface BotOutputOptions {
  noise?: readonly NoiseRule[];
  /** How often a repeating noise kind is let through again, with its count (default 1 h). */
  noiseIntervalMs?: number;
}

type Stream = 'stdout' | 'stderr';

export class BotOutput {
  private readonly noise: readonly NoiseRule[];
  private readonly intervalMs: number;
  private readonly previous: Record<Stream, BotLogLevel | undefined> = {
    stdout: undefined,
    stderr: undefined,
  };
  private readonly held = new Map<string, { lastShown: number; dropped: number }>();

  constructor(options: BotOutputOptions = {}) {
    this.noise = options.noise ?? KNOWN_NOISE;
    this.intervalMs = options.noiseIntervalMs ?? 3_600_000;
  }

  /** The record to log for one line, or undefined to drop it. */
  line(stream: Stream, text: string, now: number): BotLine | undefined {
    const record = RECORD.exec(text);
    if (!record) {
      const traceback = text.startsWith('Traceback (most recent call last)');
      const level = traceback
        ? 'error'
        : (this.previous[stream] ?? (stream === 'stderr' ? 'warn' : 'info'));
      if (traceback) this.previous[stream] = 'error';
      // Continuation lines are never dropped: only a whole record is known noise.
      return { level, message: text };
    }
    const level = SEVERITY[record[2] ?? record[3] ?? ''] ?? 'info';
    const message = record[4] ?? '';
    this.previous[stream] = level;
    const line: BotLine = { level, message, pid: Number(record[1]) };
    const rule = this.noise.find((r) => r.pattern.test(message));
    return rule === undefined ? line : this.throttle(rule.kind, line, now);
  }

  private throttle(kind: string, line: BotLine, now: number): BotLine | undefined {
    const held = this.held.get(kind);
    if (held !== undefined && now - held.lastShown < this.intervalMs) {
      held.dropped += 1;
      return undefined;
    }
    const dropped = held?.dropped ?? 0;
    this.held.set(kind, { lastShown: now, dropped: 0 });
    // Known and harmless: still shown, but not as an error that pages someone.
    const level = line.level === 'error' || line.level === 'fatal' ? 'warn' : line.level;
    return { ...line, level, noise: kind, ...(dropped > 0 ? { suppressed: dropped } : {}) };
  }
}
