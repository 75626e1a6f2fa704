/**
 * The operator's credential for the node-local commands (maintenance,
 * quarantine, sleep). Being on the node is not enough: Swarming tasks run
 * there too, as descendants of the bots. The agent makes a new random secret
 * at every start and writes it to a file only its own user (root) can read;
 * the CLI, run as root through `kubectl exec`, reads it and sends it. Bots
 * run as an unprivileged user (FARM_BOT_USER), so neither they nor their
 * tasks can read it, and it never passes through an environment they inherit.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bearer, bearerDigest, bearerMatches } from './bearer.js';

/** Where the running agent keeps the credential: decided by FARM_STATE_DIR alone, so the CLI finds it. */
export function operatorCredentialPath(stateDir: string): string {
  return join(stateDir, 'operator-credential');
}

export class OperatorCredential {
  private readonly secret = randomBytes(32).toString('base64url');
  private readonly expected = bearerDigest(this.secret);

  constructor(readonly path: string) {}

  /** Writes the secret, readable by the agent's user only; replaces the previous run's. */
  async write(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const partial = `${this.path}.partial`;
    // `mode` applies only to a new file: remove a leftover so it cannot keep looser bits.
    await rm(partial, { force: true });
    await writeFile(partial, this.secret, { mode: 0o600, flag: 'wx' });
    await rename(partial, this.path);
  }

  /** Whether an Authorization header carries this secret (compared in constant time). */
  accepts(authorization: string | undefined): boolean {
    return bearerMatches(this.expected, authorization);
  }
}

/** The Authorization header for the CLI; undefined when the file cannot be read (not root). */
export async function operatorAuthorization(path: string): Promise<string | undefined> {
  try {
    return bearer((await readFile(path, 'utf8')).trim());
  } catch {
    return undefined;
  }
}
