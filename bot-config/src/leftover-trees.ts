import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defaultCgroupParent } from './cgroup.js';
import { listProc } from './proc-scan.js';
import { ProcessTree, treeName, type ProcessTreeOptions } from './process-tree.js';

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
