// Not node:zlib's crc32: it needs Node 20.15, and the newest Node for armv7 boards is 20.11.
import CRC32 from 'crc-32';
import yauzl from 'yauzl';
import { errorMessage } from './lib/async.js';

export type ZipCheck = { ok: true } | { ok: false; reason: string };

/** `python3 swarming_bot.zip` runs this entry; without it the file is not a bot. */
const MAIN_ENTRY = '__main__.py';

/**
 * Checks that `path` is a complete, uncorrupted zip with `__main__.py` at its root.
 * Every entry is decompressed and its CRC compared: yauzl only parses the directory,
 * and a body damaged in the middle would otherwise pass and break the bot at import time.
 * Never throws: an unreadable file is just another reason.
 */
export async function isBotZip(path: string): Promise<ZipCheck> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  } catch (err) {
    return { ok: false, reason: `not a readable zip: ${errorMessage(err)}` };
  }
  try {
    let hasMain = false;
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName === MAIN_ENTRY) hasMain = true;
      if (entry.fileName.endsWith('/')) continue;
      const actual = await entryCrc(zip, entry);
      if (actual !== entry.crc32) {
        return { ok: false, reason: `entry ${entry.fileName} fails its CRC check` };
      }
    }
    return hasMain ? { ok: true } : { ok: false, reason: `no ${MAIN_ENTRY} at the zip root` };
  } catch (err) {
    return { ok: false, reason: `corrupt zip: ${errorMessage(err)}` };
  } finally {
    zip.close();
  }
}

async function entryCrc(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<number> {
  let crc = 0;
  for await (const chunk of await zip.openReadStreamPromise(entry)) {
    crc = CRC32.buf(chunk as Buffer, crc);
  }
  // crc-32 answers a signed 32-bit integer; zip entries store it unsigned.
  return crc >>> 0;
}
