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
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { sleep } from './backoff.js';

/** The environment variable every process of a bot carries. */
export const TREE_MARKER_ENV = 'FARM_BOT_TREE';

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
    let wrapped = { command, args };
    const setpriv = findOnPath('setpriv');
    if (setpriv !== undefined) {
      const switchUser = user
        ? ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups']
        : [];
      wrapped = {
        command: setpriv,
        args: [...switchUser, '--pdeathsig', 'KILL', '--', wrapped.command, ...wrapped.args],
      };
    }
    if (this.cgroup !== undefined) {
      // A failed join is reported and the bot still starts: the marker scan still finds it.
      const join_ =
        'echo $$ > "$0/cgroup.procs" || echo "farm-agent: could not join cgroup $0" >&2; exec "$@"';
      wrapped = {
        command: 'sh',
        args: ['-c', join_, this.cgroup, wrapped.command, ...wrapped.args],
      };
    }
    return { ...wrapped, switchesUser: setpriv !== undefined };
  }

  /** Pids of every live process of the bot (cgroup members and marked processes). */
  async pids(rootPid?: number): Promise<number[]> {
    const found = new Set(await this.cgroupPids());
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
      if (this.cgroup !== undefined) await this.cgroupKill();
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

  private async cgroupPids(): Promise<number[]> {
    if (this.cgroup === undefined) return [];
    return readCgroupPids(this.cgroup);
  }

  private async cgroupKill(): Promise<void> {
    const dir = this.cgroup as string;
    // cgroup.kill needs Linux 5.14; older kernels get the per-pid SIGKILL of the sweep.
    if (!existsSync(join(dir, 'cgroup.kill'))) return;
    try {
      await writeFile(join(dir, 'cgroup.kill'), '1');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log.warn({ err, cgroup: dir }, 'cgroup.kill failed');
    }
  }
}

/**
 * Kills the trees an earlier run of the agent left for bots whose work
 * directory is `<botsDir>/<bot id>`, found by name in the cgroups and /proc
 * alone: bots that are started again clean up after themselves, but a bot
 * whose phone went away while the agent was down never starts again. Call
 * before starting any bot. Returns the names of the trees it killed.
 */
export async function killLeftoverTrees(
  botsDir: string,
  options: Omit<ProcessTreeOptions, 'name'>,
): Promise<string[]> {
  const parent =
    options.cgroupParent === null ? undefined : (options.cgroupParent ?? defaultCgroupParent());
  const names = new Set<string>();
  for (const entry of await listProc()) if (entry.tree !== undefined) names.add(entry.tree);
  if (parent !== undefined) {
    const dirs = await readdir(parent, { withFileTypes: true }).catch(() => []);
    for (const dir of dirs) if (dir.isDirectory()) names.add(dir.name);
  }
  const ours = [...names].filter((name) => {
    const botId = name.slice(0, name.lastIndexOf('-'));
    return botId !== '' && treeName(botId, resolve(botsDir, botId)) === name;
  });
  const killed: string[] = [];
  for (const name of ours.sort()) {
    const tree = new ProcessTree({ ...options, name });
    await tree.prepare();
    if ((await tree.kill()) > 0) killed.push(name);
    await tree.remove();
  }
  return killed;
}

/** Members of a cgroup and its children; [] when it is gone. */
async function readCgroupPids(dir: string): Promise<number[]> {
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

interface ProcEntry {
  pid: number;
  ppid: number;
  pgrp: number;
  /** The value of its FARM_BOT_TREE, if it has one. */
  tree?: string;
}

/**
 * Live processes carrying the marker, in `rootPid`'s process group, or
 * descending from any of those. Never this process or its ancestors.
 */
async function scanProc(name: string, rootPid: number | undefined): Promise<number[]> {
  const entries = await listProc();
  const children = new Map<number, number[]>();
  for (const e of entries) children.set(e.ppid, [...(children.get(e.ppid) ?? []), e.pid]);
  const found = new Set<number>();
  const visit = (pid: number): void => {
    if (found.has(pid)) return;
    found.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  for (const e of entries) {
    if (e.tree === name || (rootPid !== undefined && (e.pid === rootPid || e.pgrp === rootPid)))
      visit(e.pid);
  }
  for (const pid of selfAndAncestors(entries)) found.delete(pid);
  return [...found].filter((pid) => entries.some((e) => e.pid === pid));
}

/** Every live process (not PID 1), with its tree marker. */
async function listProc(): Promise<ProcEntry[]> {
  const entries: ProcEntry[] = [];
  for (const dirent of await readdir('/proc')) {
    const pid = Number(dirent);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const entry = await readProcEntry(pid);
    if (entry) entries.push(entry);
  }
  return entries;
}

async function readProcEntry(pid: number): Promise<ProcEntry | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie is already dead: nothing to kill, its parent reaps it.
    if (fields[0] === 'Z') return undefined;
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    const prefix = `${TREE_MARKER_ENV}=`;
    const tree = environ
      .split('\0')
      .find((v) => v.startsWith(prefix))
      ?.slice(prefix.length);
    return { pid, ppid: Number(fields[1]), pgrp: Number(fields[2]), tree };
  } catch {
    // Gone between readdir and read.
    return undefined;
  }
}

function selfAndAncestors(entries: ProcEntry[]): number[] {
  const parent = new Map(entries.map((e) => [e.pid, e.ppid]));
  const chain: number[] = [];
  for (let pid: number | undefined = process.pid; pid !== undefined && pid > 1;) {
    chain.push(pid);
    pid = parent.get(pid);
  }
  return chain;
}

/** SIGKILL; a process already gone is fine. */
function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ESRCH: it died meanwhile.
  }
}

/**
 * `<this process's cgroup v2>/farm-bots`, or undefined without a cgroup v2
 * mount (a v1-only host). Read from /proc/self: inside a pod with its own
 * cgroup namespace this is the container's cgroup.
 */
function defaultCgroupParent(): string | undefined {
  try {
    // Synchronous on purpose: read once per supervisor, at construction.
    const own = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    if (own === undefined) return undefined;
    const path = own.slice(3);
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [mountFields, fsFields] = line.split(' - ');
      if (!fsFields?.startsWith('cgroup2 ')) continue;
      const fields = (mountFields ?? '').split(' ');
      const root = fields[3] ?? '/';
      const mountPoint = fields[4];
      if (mountPoint === undefined || !path.startsWith(root)) continue;
      return join(mountPoint, path.slice(root.length), 'farm-bots');
    }
  } catch {
    // Not Linux, or /proc unreadable: no cgroups.
  }
  return undefined;
}

/** The program's path: as given when it holds a slash, else the first match on `path`. */
export function findOnPath(program: string, path = process.env.PATH ?? ''): string | undefined {
  if (program.includes('/')) return existsSync(program) ? program : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, program))) return join(dir, program);
  }
  return undefined;
}
