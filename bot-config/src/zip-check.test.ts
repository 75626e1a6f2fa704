import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip } from '../../test/rigs/zip.js';
import { isBotZip } from './zip-check.js';

describe('isBotZip', () => {
  let dir: string;
  let good: string;
  let goodBytes: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zip-check-'));
    good = join(dir, 'good.zip');
    // Enough text that the deflated body is long and a flipped byte lands in entry data.
    await makeZip(good, {
      '__main__.py': 'import sys\n' + '# padding line for a longer body\n'.repeat(200),
      'bot_code/bot_main.py': 'print("bot")\n',
    });
    goodBytes = await readFile(good);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fileWith(name: string, bytes: Buffer | string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  }

  it('accepts a zip with __main__.py at the root', async () => {
    expect(await isBotZip(good)).toEqual({ ok: true });
  });

  it('rejects a zip whose __main__.py is not at the root', async () => {
    const path = join(dir, 'nested.zip');
    await makeZip(path, { 'pkg/__main__.py': 'print(1)\n' });
    expect(await isBotZip(path)).toEqual({ ok: false, reason: 'no __main__.py at the zip root' });
  });

  it('rejects a missing file', async () => {
    const result = await isBotZip(join(dir, 'absent.zip'));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/ENOENT/);
  });

  it('rejects an empty file', async () => {
    const result = await isBotZip(await fileWith('empty.zip', ''));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/not a readable zip/);
  });

  it('rejects something that is not a zip', async () => {
    const result = await isBotZip(await fileWith('html.zip', '<html>502 Bad Gateway</html>'));
    expect(result.ok).toBe(false);
  });

  it('rejects a truncated zip', async () => {
    const cut = goodBytes.subarray(0, Math.floor(goodBytes.length / 2));
    const result = await isBotZip(await fileWith('truncated.zip', cut));
    expect(result.ok).toBe(false);
  });

  it('rejects a zip whose entry data was damaged in the middle', async () => {
    const damaged = Buffer.from(goodBytes);
    // Offset 100 is inside __main__.py's deflated data (local header + name is ~41 bytes).
    damaged[100] = (damaged[100] ?? 0) ^ 0xff;
    const result = await isBotZip(await fileWith('damaged.zip', damaged));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/CRC|corrupt/);
  });
});
