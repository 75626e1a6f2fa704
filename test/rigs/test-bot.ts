import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeZip } from './zip.js';

const SOURCES = fileURLToPath(new URL('./test-bot/', import.meta.url));
/** The real shim, which the Swarming server injects as the bot's config/bot_config.py. */
export const BOT_CONFIG_PY = fileURLToPath(
  new URL('../../bot-config/python/bot_config.py', import.meta.url),
);

/**
 * Builds the test bot: `test/rigs/test-bot/**` (its `__main__.py` and a
 * stand-in `api/os_utilities.py`) plus the real `bot_config.py` at
 * `config/bot_config.py`, where the real bot keeps it. `extra` adds or
 * replaces files (another `__main__.py`).
 */
export async function buildTestBot(
  zipPath: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const files: Record<string, string> = {};
  for (const path of await sourceFiles(SOURCES)) {
    files[relative(SOURCES, path).split(sep).join('/')] = await readFile(path, 'utf8');
  }
  files['config/bot_config.py'] = await readFile(BOT_CONFIG_PY, 'utf8');
  await makeZip(zipPath, { ...files, ...extra });
  return zipPath;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // Bytecode left behind by a local run is not a source.
    if (entry.isDirectory() && entry.name !== '__pycache__')
      found.push(...(await sourceFiles(path)));
    else if (entry.isFile() && entry.name.endsWith('.py')) found.push(path);
  }
  return found;
}
