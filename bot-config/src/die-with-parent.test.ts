import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { dieWithParent } from './die-with-parent.js';
import { findOnPath } from './find-on-path.js';
import type { DeathBoundCommand } from './die-with-parent.js';

/** Alive and not a zombie (an orphan's zombie waits for PID 1 to reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

const orphans: number[] = [];
afterEach(() => {
  for (const pid of orphans.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

/**
 * A parent (node) that spawns `wrapped` and prints the child's pid, SIGKILLed as soon
 * as the child runs; returns the child's pid.
 */
async function orphanOf(wrapped: DeathBoundCommand): Promise<number> {
  const script =
    "const { spawn } = require('node:child_process');" +
    'const [command, ...args] = JSON.parse(process.argv[1]);' +
    "const child = spawn(command, args, { stdio: 'ignore' });" +
    "child.on('spawn', () => console.log(child.pid));";
  const parent = spawn(
    process.execPath,
    ['-e', script, JSON.stringify([wrapped.command, ...wrapped.args])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: parent.stdout }), 'line')) as [string];
  const pid = Number(line);
  orphans.push(pid);
  // setpriv execs the command: wait until it has, or the kill could beat the prctl.
  const deadline = Date.now() + 5000;
  while (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep')) {
    if (Date.now() > deadline) throw new Error('the child never became sleep');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  parent.kill('SIGKILL');
  await once(parent, 'exit');
  return pid;
}

describe('dieWithParent', () => {
  it('wraps a command in setpriv --pdeathsig KILL; the pid stays the command', () => {
    expect(dieWithParent('sleep', ['60'], { setpriv: '/usr/bin/setpriv' })).toEqual({
      command: '/usr/bin/setpriv',
      args: ['--pdeathsig', 'KILL', '--', 'sleep', '60'],
      diesWithParent: true,
    });
  });

  it('leaves a missing program unwrapped so spawn reports its ENOENT', () => {
    expect(dieWithParent('/nonexistent/adb', ['server'], { setpriv: '/usr/bin/setpriv' })).toEqual({
      command: '/nonexistent/adb',
      args: ['server'],
      diesWithParent: false,
    });
  });

  it('finds programs on PATH, executable ones only', () => {
    expect(findOnPath('sh')).toMatch(/\/sh$/);
    expect(findOnPath('sh', '/nonexistent')).toBeUndefined();
    expect(findOnPath('/etc/passwd')).toBeUndefined();
  });

  it('a SIGKILLed parent takes its wrapped child along', async () => {
    const wrapped = dieWithParent('sleep', ['60']);
    expect(wrapped.diesWithParent).toBe(true);
    expect(await gone(await orphanOf(wrapped), 5000)).toBe(true);
  });

  it('without setpriv the child outlives its parent (why the wrapper exists)', async () => {
    const pid = await orphanOf(dieWithParent('sleep', ['60'], { setpriv: null }));
    expect(await gone(pid, 500)).toBe(false);
  });
});
