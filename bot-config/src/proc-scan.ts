/**
 * Finds a bot's processes through /proc: those carrying its tree marker in
 * their environment, those in the bot's process group, and whatever descends
 * from either. The backstop of ProcessTree, and all of it without cgroups.
 */
import { readFile, readdir } from 'node:fs/promises';

/** The environment variable every process of a bot carries. */
export const TREE_MARKER_ENV = 'FARM_BOT_TREE';

export interface ProcEntry {
  pid: number;
  ppid: number;
  pgrp: number;
  /** The value of its FARM_BOT_TREE, if it has one. */
  tree?: string;
}

/** Every live process (not PID 1), with its tree marker. */
export async function listProc(): Promise<ProcEntry[]> {
  const entries: ProcEntry[] = [];
  for (const dirent of await readdir('/proc')) {
    const pid = Number(dirent);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const entry = await readProcEntry(pid);
    if (entry) entries.push(entry);
  }
  return entries;
}

/** Live processes of the tree `name` (see treeMembers). */
export async function scanProc(name: string, rootPid: number | undefined): Promise<number[]> {
  return treeMembers(await listProc(), name, rootPid, process.pid);
}

/**
 * Processes carrying the marker `name`, in `rootPid`'s process group, or
 * descending from any of those. Never `selfPid` or its ancestors: the agent
 * must not kill itself whatever a bot put in its environment.
 */
export function treeMembers(
  entries: readonly ProcEntry[],
  name: string,
  rootPid: number | undefined,
  selfPid: number,
): number[] {
  const children = new Map<number, number[]>();
  for (const e of entries) {
    const siblings = children.get(e.ppid);
    if (siblings === undefined) children.set(e.ppid, [e.pid]);
    else siblings.push(e.pid);
  }
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
  for (const pid of selfAndAncestors(entries, selfPid)) found.delete(pid);
  // Every pid in `found` came from `entries`: nothing to filter.
  return [...found];
}

/**
 * A /proc/<pid>/stat line and NUL-separated environ as a ProcEntry;
 * undefined for a zombie, which is already dead (its parent reaps it).
 */
export function parseProcEntry(pid: number, stat: string, environ: string): ProcEntry | undefined {
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return undefined;
  const prefix = `${TREE_MARKER_ENV}=`;
  const tree = environ
    .split('\0')
    .find((v) => v.startsWith(prefix))
    ?.slice(prefix.length);
  return { pid, ppid: Number(fields[1]), pgrp: Number(fields[2]), tree };
}

async function readProcEntry(pid: number): Promise<ProcEntry | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    return parseProcEntry(pid, stat, environ);
  } catch {
    // Gone between readdir and read.
    return undefined;
  }
}

function selfAndAncestors(entries: readonly ProcEntry[], selfPid: number): number[] {
  const parent = new Map(entries.map((e) => [e.pid, e.ppid]));
  const chain: number[] = [];
  for (let pid: number | undefined = selfPid; pid !== undefined && pid > 1;) {
    chain.push(pid);
    pid = parent.get(pid);
  }
  return chain;
}
