import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeZip } from '../../test/rigs/zip.js';
import { chooseStartZip, newestGoodZip } from './start-zip.js';

let v1: Buffer;
let v2: Buffer;
let v3: Buffer;
let dir: string;
let workDir: string;

beforeAll(async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'start-zip-src-'));
  const build = async (name: string) => {
    await makeZip(join(scratch, name), { '__main__.py': `print(${JSON.stringify(name)})\n` });
    return readFile(join(scratch, name));
  };
  [v1, v2, v3] = [await build('v1'), await build('v2'), await build('v3')];
  await rm(scratch, { recursive: true });
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'start-zip-'));
  workDir = join(dir, 'bots', 'pi-1-usb-1-1');
  await mkdir(workDir, { recursive: true });
});

afterEach(() => rm(dir, { recursive: true, force: true }));

/** Writes `data` at `path` as if it arrived `secondsAgo` ago. */
async function put(path: string, data: Buffer, secondsAgo: number): Promise<string> {
  await writeFile(path, data);
  const at = new Date(Date.now() - secondsAgo * 1000);
  await utimes(path, at, at);
  return path;
}

const inWork = (name: string) => join(workDir, name);

describe('chooseStartZip', () => {
  it('starts a bot that updated itself on its own newest zip, in place', async () => {
    const seed = await put(join(dir, 'cache.zip'), v1, 300);
    await put(inWork('swarming_bot.zip'), v1, 300);
    await put(inWork('swarming_bot.1.zip'), v2, 60);

    const chosen = await chooseStartZip(workDir, async () => seed);
    expect(chosen).toEqual({ path: inWork('swarming_bot.1.zip'), source: 'own' });
    // The cache's older code was not copied over the bot's own.
    expect(await readFile(inWork('swarming_bot.zip'))).toEqual(v1);
  });

  it('prefers the last-known-good copy the bot made of the same code', async () => {
    const seed = await put(join(dir, 'cache.zip'), v1, 300);
    await put(inWork('swarming_bot.1.zip'), v2, 60);
    await put(inWork('swarming_bot.zip'), v2, 30);
    expect(await chooseStartZip(workDir, async () => seed)).toEqual({
      path: inWork('swarming_bot.zip'),
      source: 'own',
    });
  });

  it('falls back to the newest whole zip when the newest update is partial or corrupt', async () => {
    const seed = await put(join(dir, 'cache.zip'), v1, 600);
    await put(inWork('swarming_bot.zip'), v1, 600);
    await put(inWork('swarming_bot.1.zip'), v2, 300);
    // An update to v3 cut off mid-download.
    await put(inWork('swarming_bot.2.zip'), v3.subarray(0, Math.floor(v3.length / 2)), 10);

    const rejected: string[] = [];
    const chosen = await chooseStartZip(
      workDir,
      async () => seed,
      (path) => rejected.push(path),
    );
    expect(chosen.path).toBe(inWork('swarming_bot.1.zip'));
    expect(rejected).toEqual([inWork('swarming_bot.2.zip')]);
  });

  it('seeds a new slot with the host’s code, keeping its arrival time, and then runs it as its own', async () => {
    const seed = await put(join(dir, 'cache.zip'), v2, 120);
    const first = await chooseStartZip(workDir, async () => seed);
    expect(first).toEqual({ path: inWork('swarming_bot.zip'), source: 'seeded' });
    expect(await readFile(first.path)).toEqual(v2);
    const copied = await stat(first.path);
    expect(Math.floor(copied.mtimeMs)).toBe(Math.floor((await stat(seed)).mtimeMs));

    // The next start finds the same arrival on both sides: no second copy.
    const second = await chooseStartZip(workDir, async () => seed);
    expect(second.source).toBe('own');
    expect((await stat(second.path)).ino).toBe(copied.ino);
  });

  it('moves a bot onto newer host code (another bot updated) over its own older code', async () => {
    await put(inWork('swarming_bot.zip'), v1, 600);
    const seed = await put(join(dir, 'cache.zip'), v2, 60);
    const chosen = await chooseStartZip(workDir, async () => seed);
    expect(chosen).toEqual({ path: inWork('swarming_bot.zip'), source: 'seeded' });
    expect(await readFile(chosen.path)).toEqual(v2);
  });

  it('runs the bot’s own code when the host code cannot be had, and fails without any', async () => {
    await put(inWork('swarming_bot.zip'), v1, 60);
    const broken = async (): Promise<string> => {
      throw new Error('server down');
    };
    expect((await chooseStartZip(workDir, broken)).path).toBe(inWork('swarming_bot.zip'));
    await rm(inWork('swarming_bot.zip'));
    await expect(chooseStartZip(workDir, broken)).rejects.toThrow('server down');
  });
});

describe('newestGoodZip', () => {
  it('skips missing files and answers undefined when nothing is whole', async () => {
    await put(inWork('swarming_bot.1.zip'), Buffer.from('not a zip'), 0);
    expect(
      await newestGoodZip([inWork('swarming_bot.zip'), inWork('swarming_bot.1.zip')]),
    ).toBeUndefined();
  });
});
