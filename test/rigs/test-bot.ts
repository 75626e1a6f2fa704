import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
// The real shim, which the Swarming server injects as the bot's config/bot_config.py.
import { BOT_CONFIG_PY } from '../../bot-config/src/paths.js';
import { makeZip } from './zip.js';

const SOURCES = fileURLToPath(new URL('./test-bot/', import.meta.url));

/**
 * Builds the test bot: `test/rigs/test-bot/**` (its `__main__.py` and a
 * stand-in `api/os_utilities.py`) plus the real `bot_config.py` at
 * `config/bot_config.py`, where the real bot keeps it.
 */
export interface TestBotOptions {
  /**
   * Written to `config/config.json` as the real zip carries it: the bot then handshakes and
   * polls this (fake) Swarming server, and updates itself when told (see test-bot/remote.py).
   */
  server?: string;
  /** Replaces the shim as the zip's own `config/bot_config.py` (the server's global config). */
  botConfig?: string;
  /** Any text, to make zips of different versions. */
  label?: string;
  /** Adds or replaces files by their path in the zip (another `__main__.py`). */
  files?: Record<string, string>;
}

export async function buildTestBot(zipPath: string, options: TestBotOptions = {}): Promise<string> {
  const files: Record<string, string> = {};
  for (const path of await sourceFiles(SOURCES)) {
    files[relative(SOURCES, path).split(sep).join('/')] = await readFile(path, 'utf8');
  }
  files['config/bot_config.py'] = options.botConfig ?? (await readFile(BOT_CONFIG_PY, 'utf8'));
  if (options.server !== undefined) {
    files['config/config.json'] = JSON.stringify({ server: options.server });
  }
  if (options.label !== undefined) files['label.txt'] = options.label;
  await makeZip(zipPath, { ...files, ...options.files });
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
