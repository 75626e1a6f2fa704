import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { externalConnectionsIn } from './external-activity.js';
import { externalConnections } from './proc-net-tcp.js';

const ADB_PORTS = new Set([5037, 5555]);
const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

/** A kernel-like IPv4 table (lines padded to 149), every 7th socket an outside adb client. */
function table(sockets: number, { pad = true, lastNewline = true } = {}): string {
  const lines = [HEADER];
  for (let i = 0; i < sockets; i++) {
    const outside = i % 7 === 3;
    const local = outside ? '0700000A:13AD' : '0100007F:13AD';
    const remote = `${outside ? '1E01A8C0' : '0100007F'}:${(40_000 + i).toString(16).toUpperCase()}`;
    lines.push(
      `${String(i).padStart(4)}: ${local} ${remote} 01 00000000:00000000 00:00000000 00000000  1000        0 ${1000 + i} 1 0000000000000000 20 4 30 10 -1`,
    );
  }
  const text = lines.map((l) => (pad ? l.padEnd(149) : l)).join('\n');
  return lastNewline ? `${text}\n` : text;
}

const peers = (sockets: { remotePort: number }[]): number[] => sockets.map((s) => s.remotePort);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'external-activity-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('finds, read in pieces, what the whole table gives: lines cut at every piece boundary', async () => {
  const path = join(dir, 'tcp');
  for (const options of [
    {},
    { pad: false },
    { lastNewline: false },
    { pad: false, lastNewline: false },
  ]) {
    const text = table(300, options);
    await writeFile(path, text);
    const whole = peers(externalConnections(Buffer.from(text), ADB_PORTS));
    expect(whole).toHaveLength(43);
    // Pieces of every size from smaller than a line to larger than the table: each cuts lines
    // at other places, and the first ones are shorter than one line, so the buffer must grow.
    for (const chunkBytes of [64, 97, 149, 150, 151, 1000, 4096, 65_536])
      expect(peers(externalConnectionsIn(path, ADB_PORTS, chunkBytes))).toEqual(whole);
  }
});

it('reads an empty table, a header alone, and no table at all as no connections', async () => {
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'header'), `${HEADER}\n`);
  for (const name of ['empty', 'header', 'no-such-tcp6'])
    expect(externalConnectionsIn(join(dir, name), ADB_PORTS, 64)).toEqual([]);
});

it('throws on a table it cannot read (the idle check then counts every slot as active)', () => {
  expect(() => externalConnectionsIn(dir, ADB_PORTS)).toThrow(/EISDIR/);
});

it('reads the real kernel tables of this machine as the whole-file parse does', () => {
  for (const path of ['/proc/net/tcp', '/proc/net/tcp6'].filter((p) => existsSync(p))) {
    // The two reads are moments apart on a live table: compare what rarely changes, the count
    // of outside adb clients, which on a test machine is none.
    const whole = externalConnections(readFileSync(path), ADB_PORTS);
    expect(externalConnectionsIn(path, ADB_PORTS, 512)).toEqual(whole);
  }
});
