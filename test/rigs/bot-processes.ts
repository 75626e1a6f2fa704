import { readFileSync, readdirSync } from 'node:fs';

/**
 * Live processes whose environment carries `FARM_BOT_TREE=<name>`: every
 * process of one bot, wherever it was re-parented. A test oracle kept apart
 * from the supervisor's own bookkeeping on purpose.
 */
export function markedProcesses(name: string): number[] {
  const marker = `FARM_BOT_TREE=${name}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker))
        found.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}
