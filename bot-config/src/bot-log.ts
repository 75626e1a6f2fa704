/**
 * Streams a bot's stdout and stderr into the structured log: split into lines
 * (long ones cut), shown to the AuthWatch, and turned into log records by
 * BotOutput (levels, noise held back).
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { AuthWatch } from './auth-refusal.js';
import { BotOutput } from './bot-output.js';
import { LineSplitter } from './lib/line-splitter.js';

export interface BotLogOptions {
  logger: Logger;
  /** Sees every line, empty ones too, before any is filtered. */
  auth: Pick<AuthWatch, 'line'>;
  now: () => number;
  /** Longer output lines are cut (default 8192 characters). */
  maxLineChars?: number;
}

/** One per bot, across its incarnations: the noise held back stays held across restarts. */
export class BotLog {
  private readonly output = new BotOutput();

  constructor(private readonly options: BotLogOptions) {}

  pipe(stream: 'stdout' | 'stderr', source: Readable | null | undefined): void {
    if (!source) return;
    const { logger, auth, now } = this.options;
    const splitter = new LineSplitter(this.options.maxLineChars ?? 8192);
    const write = (lines: ReturnType<LineSplitter['push']>): void => {
      for (const { text, truncatedChars } of lines) {
        auth.line(text);
        if (text === '' && truncatedChars === 0) continue;
        const line = this.output.line(stream, text, now());
        if (line === undefined) continue;
        const { level, message, ...fields } = line;
        logger[level](
          { stream, ...fields, ...(truncatedChars > 0 ? { truncatedChars } : {}) },
          message,
        );
      }
    };
    // The decoder keeps multi-byte characters split across chunks intact.
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => write(splitter.push(chunk)));
    source.on('end', () => write(splitter.end()));
    source.on('error', (err) => logger.debug({ err, stream }, 'bot output stream error'));
  }
}
