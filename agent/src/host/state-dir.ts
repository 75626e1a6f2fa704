import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/load.js';

/**
 * Makes sure FARM_STATE_DIR exists and takes writes, before anything relies
 * on it. Without this check an unwritable directory left the phones `ready`
 * while no bot could be unpacked into it, and nothing said so; a wrong
 * state directory is a deployment error (a hostPath or its ownership), so
 * start-up stops and names it, and the pod's restarts make it visible.
 */
export async function ensureWritableStateDir(dir: string): Promise<void> {
  const probe = join(dir, `.farm-agent-write-check-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe);
  } catch (err) {
    throw new ConfigError(
      `FARM_STATE_DIR=${JSON.stringify(dir)}: cannot write there (${(err as Error).message})`,
    );
  }
}
