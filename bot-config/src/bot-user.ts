/**
 * The unprivileged user the Swarming bots (and so their tasks) run as. The
 * agent stays root (adb needs the USB nodes, uhubctl the hubs), and what
 * only root may read stays out of the tasks' reach: the pod's
 * service-account token, the operator credential. adb keeps working: the
 * bot's adb client only talks to the agent's adb server over TCP.
 */
import { readFileSync } from 'node:fs';
import { lchown, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface BotUser {
  name: string;
  uid: number;
  gid: number;
  /** The bot's HOME; never its working directory, which the bot takes for a broken setup. */
  home: string;
}

/**
 * The /etc/passwd entry named `wanted` (a user name or a numeric uid). A
 * passwd entry is required rather than a bare uid:gid, so the bot gets a
 * real home for the tools its tasks run (adb keys, gsutil's ~/.boto).
 */
export function findUser(wanted: string, passwd = readFileSync('/etc/passwd', 'utf8')): BotUser {
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (name === undefined || uid === undefined || gid === undefined || home === undefined) {
      continue;
    }
    if (name === wanted || uid === wanted) {
      return { name, uid: Number(uid), gid: Number(gid), home };
    }
  }
  throw new Error(`no user "${wanted}" in /etc/passwd (a user name or uid)`);
}

/**
 * Gives `dir` and everything in it to the user, once: only when the
 * directory itself is not theirs yet (created by root, or by a run as root
 * before FARM_BOT_USER was set). lchown, so a symlink in the tree cannot
 * hand the bot a file outside it.
 */
export async function ownTree(dir: string, user: BotUser): Promise<void> {
  const top = await stat(dir);
  if (top.uid === user.uid && top.gid === user.gid) return;
  for (const entry of await readdir(dir, { recursive: true })) {
    await lchown(join(dir, entry), user.uid, user.gid);
  }
  await lchown(dir, user.uid, user.gid);
}
