import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeZip } from './zip.js';

describe('makeZip', () => {
  it('writes a real zip archive', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zip-'));
    const path = join(dir, 'a.zip');
    await makeZip(path, { '__main__.py': 'print(1)\n' });
    const bytes = await readFile(path);
    expect(bytes.subarray(0, 4).toString('hex')).toBe('504b0304');
    expect(bytes.includes(Buffer.from('__main__.py'))).toBe(true);
  });
});
