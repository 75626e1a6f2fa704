/**
 * Everything one bot started, as one thing that can be listed and killed.
 *
 * The real bot starts task_runner in its own process group, and run_isolated
 * gets another: the bot's process group reaches neither, and once their
 * parent dies they are re-parented to PID 1 (the pod's pause process), where
 * ppid no longer says whose they were. Two mechanisms keep them known:
 *
 *  - a cgroup v2 per bot (primary): the bot is moved into it before it execs,
 *    and every process it forks, detached or not, stays there; `cgroup.kill`
 *    kills the lot atomically, even while something forks. The pod is
 *    privileged, so its cgroup tree is writable.
 *  - a marker in the environment (`FARM_BOT_TREE=<name>`), inherited by every
 *    descendant, found by scanning /proc (always, as a backstop, and alone
 *    where no writable cgroup v2 exists). Together with the bot's process
 *    group and its descendants by ppid it also covers a task that scrubs its
 *    environment while its parent lives.
 *
 * The name is stable across agent runs (derived from the bot's work
 * directory), so `kill()` before a start also removes what a SIGKILLed agent
 * left behind.
 */
import { createHash } from 'node:crypto';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { sleep } from './lib/backoff.js';
import { defaultCgroupParent, killCgroup, readCgroupPids } from './cgroup.js';
import { dieWithParent } from './die-with-parent.js';
import { TREE_MARKER_ENV, scanProc } from './proc-scan.js';

export { findOnPath } from './find-on-path.js';
export { TREE_MARKER_ENV } from './proc-scan.js';

/** How long kill() keeps sweeping for processes that were forking while it killed. */
const SETTLE_MS = 5_000;
const SWEEP_INTERVAL_MS = 25;

export interface ProcessTreeOptions {
  /** Unique per bot and stable across agent runs, e.g. from treeName(). */
  name: string;
  /**
   * The directory under which per-bot cgroups are made; `undefined` finds the
   * agent's own cgroup v2, `null` uses the /proc marker alone.
   */
  cgroupParent?: string | null;
  logger: Logger;
}

/** A readable, filesystem-safe name: the bot id plus a hash of its work directory. */
export function treeName(botId: string, workDir: string): string {
  const hash = createHash('sha256').update(workDir).digest('hex').slice(0, 10);
  return `${botId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${hash}`;
}

export class ProcessTree {
  readonly name: string;
  private readonly log: Logger;
  private readonly cgroupParent: string | undefined;
  /** Set once the bot's cgroup exists and can be joined. */
  private cgroup: string | undefined;

  constructor(options: ProcessTreeOptions) {
    this.name = options.name;
    this.log = options.logger;
    this.cgroupParent =
      options.cgroupParent === null ? undefined : (options.cgroupParent ?? defaultCgroupParent());
  }

  /** `cgroup <dir>` or `proc-marker`: for logs and tests. */
  get mechanism(): string {
    return this.cgroup === undefined ? 'proc-marker' : `cgroup ${this.cgroup}`;
  }

  /**
   * Creates the bot's cgroup if it can; falls back to the /proc marker (logged
   * once) when cgroup v2 is missing or not writable.
   */
  async prepare(): Promise<void> {
    if (this.cgroup !== undefined || this.cgroupParent === undefined) return;
    const dir = join(this.cgroupParent, this.name);
    try {
      await mkdir(dir, { recursive: true });
      this.cgroup = dir;
    } catch (err) {
      this.log.warn(
        { err, cgroup: dir },
        'cannot create a cgroup for the bot; tracking its processes through /proc instead',
      );
    }
  }

  /** The environment entry that marks the bot and all it starts. */
  markerEnv(): Record<string, string> {
    return { [TREE_MARKER_ENV]: this.name };
  }

  /**
   * Wraps a command so that it enters the cgroup before it runs, switches to `user` (if any)
   * and is SIGKILLed when the agent dies (parent-death signal; `setpriv` from util-linux). The
   * pid stays the command's: every step ends in exec. The cgroup is joined while still root
   * (only root may write cgroup.procs), and the user switch comes with the parent-death
   * signal, which the kernel clears on a credential change made after it.
   * `switchesUser` is false when the caller must switch user itself (no setpriv here).
   */
  wrap(
    command: string,
    args: string[],
    user?: { uid: number; gid: number },
  ): { command: string; args: string[]; switchesUser: boolean } {
    const bound = dieWithParent(command, args, user ? { user } : {});
    let wrapped = { command: bound.command, args: bound.args };
    if (this.cgroup !== undefined) {
      // A failed join is reported and the bot still starts: the marker scan still finds it.
      const join_ =
        'echo $$ > "$0/cgroup.procs" || echo "farm-agent: could not join cgroup $0" >&2; exec "$@"';
      wrapped = {
        command: 'sh',
        args: ['-c', join_, this.cgroup, wrapped.command, ...wrapped.args],
      };
    }
    return { ...wrapped, switchesUser: bound.diesWithParent };
  }

  /** Pids of every live process of the bot (cgroup members and marked processes). */
  async pids(rootPid?: number): Promise<number[]> {
    const found = new Set(this.cgroup === undefined ? [] : await readCgroupPids(this.cgroup));
    for (const pid of await scanProc(this.name, rootPid)) found.add(pid);
    return [...found].sort((a, b) => a - b);
  }

  /**
   * SIGKILLs every process of the bot, `rootPid`'s process group and
   * descendants included, and sweeps again until none is left (or SETTLE_MS).
   * Returns how many processes it killed.
   */
  async kill(rootPid?: number): Promise<number> {
    const killed = new Set<number>();
    const deadline = Date.now() + SETTLE_MS;
    // A process in the middle of an exec can show no environment for an instant: only a
    // second empty scan in a row counts as none left.
    let empty = 0;
    for (;;) {
      const left = await this.pids(rootPid);
      if (left.length === 0) {
        if (++empty === 2) break;
        await sleep(SWEEP_INTERVAL_MS);
        continue;
      }
      empty = 0;
      // Atomic for the cgroup's members, forks in flight included; the rest one by one.
      if (this.cgroup !== undefined) await killCgroup(this.cgroup, this.log);
      for (const pid of left) {
        signal(pid);
        killed.add(pid);
      }
      if (Date.now() > deadline) {
        this.log.error({ pids: left, tree: this.name }, 'bot processes survive SIGKILL');
        break;
      }
      await sleep(SWEEP_INTERVAL_MS);
    }
    if (killed.size > 0)
      this.log.info({ pids: [...killed], tree: this.name }, 'killed bot processes');
    return killed.size;
  }

  /** Removes the empty cgroup (after kill()); its name is reused at the next start. */
  async remove(): Promise<void> {
    if (this.cgroup === undefined) return;
    try {
      await rmdir(this.cgroup);
      this.cgroup = undefined;
    } catch (err) {
      this.log.warn({ err, cgroup: this.cgroup }, 'cannot remove the bot cgroup');
    }
  }
}

/** SIGKILL; a process already gone is fine. */
function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ESRCH: it died meanwhile.
  }
}
