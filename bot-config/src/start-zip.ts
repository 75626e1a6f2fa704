/**
 * Which bot code a bot starts with.
 *
 * The Swarming bot updates itself: on the server's `update` it downloads the new code as
 * `swarming_bot.1.zip` (next time `.2.zip`, alternating) beside the zip it runs, checks it and
 * re-execs on it; after its next good poll cycle it copies the code it runs back over
 * `swarming_bot.zip` (its "last known good bot code"). So a bot's directory holds its own
 * newest code, and a restart must run that, not whatever the agent downloaded first.
 *
 * Newest means latest modification time: the bot writes each file when a version arrives, and
 * the agent preserves the time when it copies a zip. Versions are content hashes and carry no
 * order; arrival time is the only order there is (upstream's own last-known-good check compares
 * mtimes the same way). Every candidate must pass the zip check, so a partial or corrupt update
 * falls back to the newest zip that is whole.
 */
import { copyFile, rename, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { isBotZip, type ZipCheck } from './zip-check.js';

/** The names the bot code has in a bot's directory, as the bot itself uses them. */
export const BOT_ZIP = 'swarming_bot.zip';
export const BOT_ZIP_NAMES = [BOT_ZIP, 'swarming_bot.1.zip', 'swarming_bot.2.zip'] as const;

export interface ZipFile {
  path: string;
  mtimeMs: number;
}

/** Called for each candidate that exists but fails the zip check. */
export type OnRejected = (path: string, reason: string) => void;

/** Every place a bot's directory may hold its code. */
export function botZipPaths(dir: string): string[] {
  return BOT_ZIP_NAMES.map((name) => join(dir, name));
}

// Checking a zip decompresses all of it (seconds for several on a Pi), and every bot start
// looks at every bot's files: remember verdicts for files that did not change since.
const verdicts = new Map<string, ZipCheck>();
const MAX_VERDICTS = 256;

async function checkOnce(path: string, key: string): Promise<ZipCheck> {
  const known = verdicts.get(key);
  if (known) return known;
  const check = await isBotZip(path);
  if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
  verdicts.set(key, check);
  return check;
}

/** The most recently written of `paths` that is a whole bot zip; missing files are skipped. */
export async function newestGoodZip(
  paths: readonly string[],
  onRejected?: OnRejected,
): Promise<ZipFile | undefined> {
  const present: (ZipFile & { key: string })[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    // A rename over the path changes the inode, a rewrite in place the size or mtime.
    const key = `${path}\0${info.ino}\0${info.size}\0${info.mtimeMs}`;
    present.push({ path, mtimeMs: info.mtimeMs, key });
  }
  // Newest first; on a tie the earlier path wins (the caller lists its preference first).
  present.sort((a, b) => wholeMs(b) - wholeMs(a));
  for (const file of present) {
    const check = await checkOnce(file.path, file.key);
    if (check.ok) return { path: file.path, mtimeMs: file.mtimeMs };
    onRejected?.(file.path, check.reason);
  }
  return undefined;
}

/**
 * Copies `source` to `target` through a temporary name (a crash mid-copy never leaves a
 * truncated zip under the real name) and keeps its modification time, which is the
 * version's arrival time for every later choice.
 */
export async function copyZip(source: ZipFile, target: string): Promise<void> {
  const partial = `${target}.partial`;
  await copyFile(source.path, partial);
  // Half way into the whole millisecond: utimes goes through floating-point seconds, and the
  // whole millisecond itself could come back as the one before.
  const at = (wholeMs(source) + 0.5) / 1000;
  await utimes(partial, at, at);
  await rename(partial, target);
}

export interface StartZip {
  path: string;
  /** `own`: the bot's own newest code; `seeded`: copied in from the agent's code. */
  source: 'own' | 'seeded';
}

/**
 * The zip the bot in `workDir` starts with: its own newest whole zip, run in place (a
 * `swarming_bot.1.zip` stays one, so the bot's next update alternates as upstream expects),
 * unless `seed()` — the newest code on this host, downloading it if there is none — is newer;
 * then that is copied to `swarming_bot.zip`. When `seed()` fails the bot's own code is used.
 */
export async function chooseStartZip(
  workDir: string,
  seed: () => Promise<string>,
  onRejected?: OnRejected,
): Promise<StartZip> {
  const own = await newestGoodZip(botZipPaths(workDir), onRejected);
  let seedFile: ZipFile | undefined;
  try {
    const path = await seed();
    seedFile = { path, mtimeMs: (await stat(path)).mtimeMs };
  } catch (err) {
    if (own) return { path: own.path, source: 'own' };
    throw err;
  }
  if (own && wholeMs(own) >= wholeMs(seedFile)) return { path: own.path, source: 'own' };
  const target = join(workDir, BOT_ZIP);
  await copyZip(seedFile, target);
  return { path: target, source: 'seeded' };
}

/**
 * Times compared in whole milliseconds: a copy's time set through utimes can differ from the
 * original's in the sub-millisecond digits, and must still count as the same arrival.
 */
export function wholeMs(file: ZipFile): number {
  return Math.floor(file.mtimeMs);
}
