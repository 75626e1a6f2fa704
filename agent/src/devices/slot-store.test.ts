import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlotStore } from './slot-store.js';
import type { PersistedSlot } from './slot-store.js';
import { deriveAndroidDimensions } from './swarming-dimensions.js';

const PIXEL: PersistedSlot = {
  key: 'usb:1-1.3',
  index: 0,
  botId: 'pi-1-usb-1-1-3',
  dimensions: deriveAndroidDimensions(
    new Map([
      ['ro.build.id', 'SP1A.210812.016'],
      ['ro.product.device', 'sargo'],
    ]),
    { insideDocker: false },
  ),
};

let dir: string;
const store = () =>
  new SlotStore({
    stateDir: dir,
    logger: pino({ level: 'silent' }),
    now: () => Date.UTC(2024, 0, 2),
  });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slot-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SlotStore', () => {
  it('starts empty without a file', async () => {
    expect(await store().load()).toEqual([]);
  });

  it('loads what it saved, leaving no temp file', async () => {
    const tcp = { ...PIXEL, key: '10.0.0.5:5555', index: 1, botId: 'pi-1-10-0-0-5-5555' };
    await store().save([PIXEL, tcp]);
    expect(await store().load()).toEqual([PIXEL, tcp]);
    expect(await readdir(dir)).toEqual(['slots.json']);
  });

  it('keeps the last of several quick saves', async () => {
    const s = store();
    void s.save([PIXEL]);
    void s.save([]);
    await s.save([{ ...PIXEL, index: 4 }]);
    expect(await store().load()).toEqual([{ ...PIXEL, index: 4 }]);
  });

  it('creates the state directory', async () => {
    const nested = join(dir, 'a', 'b');
    const s = new SlotStore({ stateDir: nested, logger: pino({ level: 'silent' }) });
    await s.save([PIXEL]);
    expect(JSON.parse(await readFile(join(nested, 'slots.json'), 'utf8'))).toEqual({
      version: 1,
      slots: [PIXEL],
    });
  });

  it.each([
    ['truncated JSON', '{"version": 1, "slots": [{"key": "usb'],
    ['another version', JSON.stringify({ version: 2, slots: [] })],
    ['a bad index', JSON.stringify({ version: 1, slots: [{ ...PIXEL, index: -1 }] })],
    [
      'a dimension that is no list',
      JSON.stringify({
        version: 1,
        slots: [{ ...PIXEL, dimensions: { ...PIXEL.dimensions, os: 'Android' } }],
      }),
    ],
    ['duplicate keys', JSON.stringify({ version: 1, slots: [PIXEL, { ...PIXEL, index: 1 }] })],
  ])('sets a file with %s aside and starts empty', async (_, text) => {
    await writeFile(join(dir, 'slots.json'), text);
    expect(await store().load()).toEqual([]);
    expect(await readdir(dir)).toEqual(['slots.json.corrupt-2024-01-02T00-00-00-000Z']);
    expect(await readFile(join(dir, 'slots.json.corrupt-2024-01-02T00-00-00-000Z'), 'utf8')).toBe(
      text,
    );
  });

  it('logs a failed write and does not reject', async () => {
    // The state "directory" is a file: mkdir fails.
    const file = join(dir, 'not-a-dir');
    await writeFile(file, '');
    const s = new SlotStore({ stateDir: file, logger: pino({ level: 'silent' }) });
    await expect(s.save([PIXEL])).resolves.toBeUndefined();
  });
});
