import { describe, expect, it } from 'vitest';
import { parseProcEntry, treeMembers, type ProcEntry } from './proc-scan.js';

const p = (pid: number, ppid: number, pgrp: number, tree?: string): ProcEntry => ({
  pid,
  ppid,
  pgrp,
  tree,
});

describe('treeMembers', () => {
  // 10 agent (child of 5); 20 bot; 21 task in its own group, 22 its child; 30 marked orphan;
  // 40 in the bot's group; 50 a stranger; 60 another bot's process.
  const entries = [
    p(5, 1, 5),
    p(10, 5, 10),
    p(20, 10, 20, 'bot-a'),
    p(21, 20, 21, 'bot-a'),
    p(22, 21, 21),
    p(30, 1, 30, 'bot-a'),
    p(40, 1, 20),
    p(50, 1, 50),
    p(60, 10, 60, 'bot-b'),
  ];

  it('takes marked processes, the root process group and all their descendants', () => {
    expect(treeMembers(entries, 'bot-a', 20, 10).sort((a, b) => a - b)).toEqual([
      20, 21, 22, 30, 40,
    ]);
    expect(treeMembers(entries, 'bot-a', undefined, 10).sort((a, b) => a - b)).toEqual([
      20, 21, 22, 30,
    ]);
  });

  it('never names the agent or its ancestors, even when they carry the marker', () => {
    const marked = entries.map((e) => (e.pid === 10 || e.pid === 5 ? { ...e, tree: 'bot-a' } : e));
    const found = treeMembers(marked, 'bot-a', undefined, 10);
    expect(found).not.toContain(10);
    expect(found).not.toContain(5);
    expect(found).toContain(60);
  });
});

describe('parseProcEntry', () => {
  it('reads ppid and process group after a command name holding spaces and parentheses', () => {
    const stat = '123 (python3 (x) y) S 45 67 67 0 -1 4194560';
    const environ = ['PATH=/bin', 'FARM_BOT_TREE=bot-a-123', 'X=FARM_BOT_TREE=no'].join('\0');
    expect(parseProcEntry(123, stat, environ)).toEqual({
      pid: 123,
      ppid: 45,
      pgrp: 67,
      tree: 'bot-a-123',
    });
    expect(parseProcEntry(123, stat, '')?.tree).toBeUndefined();
  });

  it('skips a zombie', () => {
    expect(parseProcEntry(9, '9 (sh) Z 1 9 9', '')).toBeUndefined();
  });
});
