import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { captureLogger } from '../../test/rigs/test-bots.js';
import { BotLog } from './bot-log.js';

function rig(maxLineChars?: number): {
  log: BotLog;
  records: ReturnType<typeof captureLogger>['records'];
  seen: string[];
} {
  const { logger, records } = captureLogger();
  const seen: string[] = [];
  const log = new BotLog({
    logger,
    auth: { line: (t) => seen.push(t) },
    now: () => 0,
    maxLineChars,
  });
  return { log, records, seen };
}

async function feed(log: BotLog, stream: 'stdout' | 'stderr', chunks: (string | Buffer)[]) {
  const source = new PassThrough();
  log.pipe(stream, source);
  const ended = new Promise((resolve) => source.on('end', resolve));
  for (const chunk of chunks) source.write(chunk);
  source.end();
  await ended;
}

describe('BotLog', () => {
  it('logs each whole line at its record level, tagged with its stream', async () => {
    const { log, records } = rig();
    await feed(log, 'stderr', [
      '1234 2026-08-20 11:00:12.345 E: poll fail',
      'ed\nplain line\n1234 2026-08-20 11:00:13.000 I: polled\n',
    ]);
    const lines = records.filter((r) => r.stream === 'stderr');
    // A raw line continues the record before it, at its level.
    expect(lines.map((r) => [r.level, r.msg])).toEqual([
      [50, 'poll failed'],
      [50, 'plain line'],
      [30, 'polled'],
    ]);
  });

  it('shows the auth watch every line, empty ones too, and keeps characters split across chunks', async () => {
    const { log, records, seen } = rig();
    const euro = Buffer.from('€');
    await feed(log, 'stdout', [
      Buffer.concat([Buffer.from('price 5'), euro.subarray(0, 1)]),
      euro.subarray(1),
      Buffer.from('\n\nlast'),
    ]);
    expect(seen).toEqual(['price 5€', '', 'last']);
    expect(records.filter((r) => r.stream === 'stdout').map((r) => r.msg)).toEqual([
      'price 5€',
      'last',
    ]);
  });

  it('cuts long lines and says by how much', async () => {
    const { log, records } = rig(10);
    await feed(log, 'stdout', ['x'.repeat(25) + '\n']);
    const line = records.find((r) => r.stream === 'stdout');
    expect(line?.msg).toBe('x'.repeat(10));
    expect(line).toMatchObject({ truncatedChars: 15 });
  });

  it('does nothing for a stream that is not there', () => {
    const { log, records } = rig();
    log.pipe('stdout', null);
    expect(records).toEqual([]);
  });
});
