/**
 * The cgroup v2 side of a bot's ProcessTree: where per-bot cgroups go, who is
 * in one, and killing all of them at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

/**
 * `<this process's cgroup v2>/farm-bots`, or undefined without a cgroup v2
 * mount (a v1-only host). Read from /proc/self: inside a pod with its own
 * cgroup namespace this is the container's cgroup.
 */
export function defaultCgroupParent(): string | undefined {
  try {
    // Synchronous on purpose: read once per supervisor, at construction.
    return cgroupParentFrom(
      readFileSync('/proc/self/cgroup', 'utf8'),
      readFileSync('/proc/self/mountinfo', 'utf8'),
    );
  } catch {
    // Not Linux, or /proc unreadable: no cgroups.
    return undefined;
  }
}

/** The parent for per-bot cgroups, from /proc/self/cgroup and /proc/self/mountinfo. */
export function cgroupParentFrom(cgroupFile: string, mountinfo: string): string | undefined {
  const own = cgroupFile.split('\n').find((l) => l.startsWith('0::'));
  if (own === undefined) return undefined;
  const path = own.slice(3);
  for (const line of mountinfo.split('\n')) {
    const [mountFields, fsFields] = line.split(' - ');
    if (!fsFields?.startsWith('cgroup2 ')) continue;
    const fields = (mountFields ?? '').split(' ');
    const root = fields[3] ?? '/';
    const mountPoint = fields[4];
    if (mountPoint === undefined || !path.startsWith(root)) continue;
    return join(mountPoint, path.slice(root.length), 'farm-bots');
  }
  return undefined;
}

/** Members of a cgroup and its children; [] when it is gone. */
export async function readCgroupPids(dir: string): Promise<number[]> {
  try {
    const pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) pids.push(...(await readCgroupPids(join(dir, entry.name))));
    }
    return pids;
  } catch {
    return [];
  }
}

/** SIGKILLs every member atomically, forks in flight included. */
export async function killCgroup(dir: string, logger: Pick<Logger, 'warn'>): Promise<void> {
  // cgroup.kill needs Linux 5.14; older kernels get the per-pid SIGKILL of the sweep.
  if (!existsSync(join(dir, 'cgroup.kill'))) return;
  try {
    await writeFile(join(dir, 'cgroup.kill'), '1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      logger.warn({ err, cgroup: dir }, 'cgroup.kill failed');
  }
}
