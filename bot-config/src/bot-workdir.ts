/**
 * Readies the bot's base directory before a start: it exists, belongs to the
 * bot user, and holds the zip to start (see start-zip.ts).
 */
import { lchown, mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { untilAborted } from './lib/async.js';
import { ownTree, type BotUser } from './bot-user.js';
import { chooseStartZip } from './start-zip.js';

export interface BotWorkDir {
  /** The bot keeps its zip, state and self-updates (`swarming_bot.1.zip`) here. */
  workDir: string;
  /** Path of the newest valid bot code on the host (may download it). */
  zip: () => Promise<string>;
  user?: BotUser;
  logger: Logger;
}

/**
 * The zip to start; undefined (logged) when there is none. Gives up as soon
 * as `signal` aborts: a zip() hanging on a stalled download must not hold up
 * a stop.
 */
export async function prepareBotZip(
  dir: BotWorkDir,
  signal: AbortSignal,
): Promise<string | undefined> {
  const { workDir, user, logger } = dir;
  try {
    await mkdir(workDir, { recursive: true });
    // The bot writes its state and self-updates there.
    if (user) await ownTree(workDir, user);
    const seed = (): Promise<string> =>
      untilAborted(
        Promise.resolve().then(() => dir.zip()),
        signal,
      );
    const chosen = await chooseStartZip(workDir, seed, (path, reason) =>
      logger.warn({ path, reason }, 'bot code in the bot directory is not a whole zip; skipped'),
    );
    // The bot copies its running code back over swarming_bot.zip in place (upstream's
    // last-known-good step, shutil.copy): a zip seeded by root must be the bot's to write.
    if (chosen.source === 'seeded' && user) await lchown(chosen.path, user.uid, user.gid);
    return chosen.path;
  } catch (err) {
    if (!signal.aborted) logger.error({ err }, 'bot code unavailable; will retry');
    return undefined;
  }
}
