import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isRecord } from '@farm-agent/bot-config/lib';
import type { Logger } from 'pino';
import { DEVICE_DIMENSION_KEYS } from './swarming-dimensions.js';
import type { DeviceDimensions } from './swarming-dimensions.js';

/** What outlives an agent restart: enough to report a vanished phone and keep bot ids. */
export interface PersistedSlot {
  key: string;
  /** The slot's position on the node, the `{index}` of bot id patterns. */
  index: number;
  /** For people reading the file; the manager derives ids from the current pattern. */
  botId: string;
  /** From the last phone's properties; its `device_type` names the phone in "gone missing". */
  dimensions: DeviceDimensions;
}

export interface SlotPersistence {
  load(): Promise<PersistedSlot[]>;
  /** Never rejects: a failed write is logged and the next change writes again. */
  save(slots: readonly PersistedSlot[]): Promise<void>;
}

const FILE = 'slots.json';
const VERSION = 1;

export interface SlotStoreOptions {
  stateDir: string;
  logger: Logger;
  now?: () => number;
}

/**
 * Known slots in `<stateDir>/slots.json`, written atomically (temp file,
 * fsync, rename) so a power cut on the Pi leaves the old file or the new one,
 * never half of one. Writes are serialised: the last change is the last write.
 */
export class SlotStore implements SlotPersistence {
  private readonly path: string;
  private writes: Promise<void> = Promise.resolve();
  private temps = 0;

  constructor(private readonly options: SlotStoreOptions) {
    this.path = join(options.stateDir, FILE);
  }

  /**
   * The saved slots; none when there is no file yet. A file that cannot be
   * understood is set aside as `slots.json.corrupt-<time>` for a person to
   * look at and the agent starts without it: losing the memory of absent
   * phones is better than a farm node that does not start.
   */
  async load(): Promise<PersistedSlot[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      this.options.logger.error({ err: error, path: this.path }, 'cannot read the slot store');
      return [];
    }
    let slots: PersistedSlot[];
    try {
      slots = parseStore(JSON.parse(text));
    } catch (error) {
      const stamp = new Date((this.options.now ?? Date.now)()).toISOString().replace(/[:.]/g, '-');
      const aside = `${this.path}.corrupt-${stamp}`;
      this.options.logger.error(
        { err: error, path: this.path, movedTo: aside },
        'slot store is corrupt; starting without it',
      );
      await rename(this.path, aside).catch((err: unknown) => {
        this.options.logger.error({ err, path: this.path }, 'cannot set the corrupt store aside');
      });
      return [];
    }
    return slots;
  }

  save(slots: readonly PersistedSlot[]): Promise<void> {
    const text = `${JSON.stringify({ version: VERSION, slots }, null, 2)}\n`;
    this.writes = this.writes.then(() =>
      this.write(text).catch((err: unknown) => {
        this.options.logger.error({ err, path: this.path }, 'cannot write the slot store');
      }),
    );
    return this.writes;
  }

  private async write(text: string): Promise<void> {
    await mkdir(this.options.stateDir, { recursive: true });
    const temp = `${this.path}.tmp-${process.pid}-${this.temps++}`;
    try {
      const file = await open(temp, 'w');
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}

/** Validates the file's shape; throws with what is wrong. */
function parseStore(data: unknown): PersistedSlot[] {
  if (!isRecord(data) || data['version'] !== VERSION || !Array.isArray(data['slots'])) {
    throw new Error(`not a version ${VERSION} slot store`);
  }
  const slots = data['slots'].map((slot: unknown, i): PersistedSlot => {
    const where = `slot ${i}`;
    if (!isRecord(slot)) throw new Error(`${where} is not an object`);
    const { key, index, botId, dimensions } = slot;
    if (typeof key !== 'string' || key === '') throw new Error(`${where}: bad key`);
    if (!Number.isSafeInteger(index) || (index as number) < 0) {
      throw new Error(`${where}: bad index`);
    }
    if (typeof botId !== 'string') throw new Error(`${where}: bad botId`);
    return { key, index: index as number, botId, dimensions: parseDimensions(dimensions, where) };
  });
  const seen = (field: 'key' | 'index') => new Set(slots.map((s) => s[field])).size;
  if (seen('key') !== slots.length || seen('index') !== slots.length) {
    throw new Error('duplicate slot key or index');
  }
  return slots;
}

function parseDimensions(data: unknown, where: string): DeviceDimensions {
  if (!isRecord(data)) throw new Error(`${where}: dimensions are not an object`);
  const entries = DEVICE_DIMENSION_KEYS.map((key) => {
    const values = data[key];
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
      throw new Error(`${where}: dimension ${key} is not a list of strings`);
    }
    return [key, values as string[]] as const;
  });
  return Object.fromEntries(entries) as DeviceDimensions;
}
