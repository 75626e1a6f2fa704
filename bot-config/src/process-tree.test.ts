import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { markedProcesses } from '../../test/rigs/bot-processes.js';
import { captureLogger, isAlive, waitFor } from '../../test/rigs/test-bots.js';
import { killLeftoverTrees } from './leftover-trees.js';
import { ProcessTree, treeName } from './process-tree.js';

let dir: string;
let trees: ProcessTree[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tree-'));
  trees = [];
});

afterEach(async () => {
  for (const tree of trees) {
    await tree.kill();
    await tree.remove();
  }
  await rm(dir, { recursive: true, force: true });
});

async function newTree(cgroupParent?: null): Promise<ProcessTree> {
  const tree = new ProcessTree({
    name: treeName('pi-1-slot-0', dir),
    cgroupParent,
    logger: captureLogger().logger,
  });
  await tree.prepare();
  trees.push(tree);
  return tree;
}

const cgroupWritable = await (async () => {
  const probe = new ProcessTree({ name: `probe-${process.pid}`, logger: captureLogger().logger });
  await probe.prepare();
  const ok = probe.mechanism.startsWith('cgroup');
  await probe.remove();
  return ok;
})();

/**
 * Runs `script` (sh) inside the tree the way the supervisor runs the bot, in
 * `dir`; its environment carries the marker, as the bot's does.
 */
function runInTree(tree: ProcessTree, script: string, user?: { uid: number; gid: number }): number {
  const { command, args } = tree.wrap('sh', ['-c', script], user);
  const child = spawn(command, args, {
    cwd: dir,
    env: { ...process.env, ...tree.markerEnv() },
    stdio: 'ignore',
    detached: true,
  });
  child.unref();
  return child.pid ?? 0;
}

async function pidFrom(file: string): Promise<number> {
  await waitFor(file, () => existsSync(join(dir, file)));
  return Number((await readFile(join(dir, file), 'utf8')).trim());
}

// Like the bot, only harsher (new sessions, not just process groups): a detached child
// (task_runner), an orphan whose parent is gone (run_isolated once task_runner died), and the
// bot itself running on.
const BOT_LIKE = `
setsid sleep 301 & echo $! > detached.tmp && mv detached.tmp detached
(setsid sleep 302 & echo $! > orphan.tmp && mv orphan.tmp orphan)
exec sleep 300`;

describe.each([
  ['cgroup', undefined],
  ['/proc marker', null],
] as const)('ProcessTree with %s', (mechanism, cgroupParent) => {
  it.skipIf(mechanism === 'cgroup' && !cgroupWritable)(
    'lists and kills the whole tree: detached children and orphans too',
    async () => {
      const tree = await newTree(cgroupParent);
      expect(tree.mechanism).toMatch(mechanism === 'cgroup' ? /^cgroup / : /^proc-marker$/);
      const bot = runInTree(tree, BOT_LIKE);
      const [detached, orphan] = [await pidFrom('detached'), await pidFrom('orphan')];
      await waitFor('orphan re-parented', async () => (await tree.pids()).includes(orphan));
      expect(await tree.pids()).toEqual(expect.arrayContaining([bot, detached, orphan]));

      expect(await tree.kill(bot)).toBeGreaterThanOrEqual(3);
      for (const pid of [bot, detached, orphan]) {
        await waitFor(`${pid} gone`, () => !isAlive(pid), 2_000);
      }
      expect(await tree.pids()).toEqual([]);
      expect(markedProcesses(tree.name)).toEqual([]);
    },
  );

  // FARM_BOT_USER: the switch happens after the join (only root may write cgroup.procs).
  it.skipIf(mechanism === 'cgroup' && !cgroupWritable)(
    'runs the command as the bot user, still inside the tree',
    async () => {
      const tree = await newTree(cgroupParent);
      const bot = runInTree(tree, 'exec sleep 305', { uid: 65534, gid: 65534 });
      await waitFor('the bot runs sleep', async () =>
        (await readFile(`/proc/${bot}/cmdline`, 'utf8')).startsWith('sleep'),
      );
      const status = await readFile(`/proc/${bot}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe('65534');
      expect(/^Groups:[ \t]*(.*)$/m.exec(status)?.[1]?.trim()).toBe('');
      if (mechanism === 'cgroup') {
        const cgroup = await readFile(`/proc/${bot}/cgroup`, 'utf8');
        expect(cgroup).toContain(tree.name);
      }
      expect(await tree.pids()).toContain(bot);
    },
  );

  it.skipIf(mechanism === 'cgroup' && !cgroupWritable)(
    'kills what an earlier run of the agent left, found by name alone',
    async () => {
      const earlier = await newTree(cgroupParent);
      runInTree(earlier, BOT_LIKE);
      const orphan = await pidFrom('orphan');
      // A new agent knows nothing but the name (same bot, same work directory).
      const later = await newTree(cgroupParent);
      expect(await later.kill()).toBeGreaterThanOrEqual(3);
      await waitFor('orphan gone', () => !isAlive(orphan), 2_000);
      expect(markedProcesses(later.name)).toEqual([]);
    },
  );
});

describe.each([
  ['cgroup', undefined],
  ['/proc marker', null],
] as const)('killLeftoverTrees with %s', (mechanism, cgroupParent) => {
  it.skipIf(mechanism === 'cgroup' && !cgroupWritable)(
    "kills the trees of this state directory's bots, and only those",
    async () => {
      const logger = captureLogger().logger;
      const tree = (botsDir: string, botId: string) => {
        const t = new ProcessTree({
          name: treeName(botId, join(botsDir, botId)),
          cgroupParent,
          logger,
        });
        trees.push(t);
        return t;
      };
      const ours = tree(join(dir, 'bots'), 'gone-phone-bot');
      const theirs = tree(join(dir, 'other-agent', 'bots'), 'gone-phone-bot');
      for (const t of [ours, theirs]) await t.prepare();
      const oursPid = runInTree(ours, 'exec sleep 305');
      const theirsPid = runInTree(theirs, 'exec sleep 306');
      await waitFor(
        'both running',
        async () => (await ours.pids()).length + (await theirs.pids()).length === 2,
      );

      expect(await killLeftoverTrees(join(dir, 'bots'), { cgroupParent, logger })).toEqual([
        ours.name,
      ]);
      await waitFor('ours gone', () => !isAlive(oursPid), 2_000);
      expect(isAlive(theirsPid)).toBe(true);
    },
  );
});

describe('ProcessTree', () => {
  it.skipIf(!cgroupWritable)(
    'in a cgroup, also kills a process that dropped the marker from its environment',
    async () => {
      const tree = await newTree();
      runInTree(
        tree,
        '(setsid env -i sleep 303 & echo $! > scrubbed.tmp && mv scrubbed.tmp scrubbed)',
      );
      const scrubbed = await pidFrom('scrubbed');
      // Once `env -i` has exec'd, the /proc scan alone would miss it.
      await waitFor('marker dropped', () => !markedProcesses(tree.name).includes(scrubbed));
      expect(isAlive(scrubbed)).toBe(true);
      await tree.kill();
      await waitFor('scrubbed gone', () => !isAlive(scrubbed), 2_000);
    },
  );

  it('gives the wrapped command a parent-death signal: it dies with its parent', async () => {
    const tree = await newTree(null);
    const { command, args } = tree.wrap('sleep', ['304']);
    // The intermediate shell stands for the agent: SIGKILLed, it cannot clean up.
    const agent = spawn(
      'sh',
      ['-c', '"$@" & echo $! > bot.tmp && mv bot.tmp bot; wait', 'sh', command, ...args],
      {
        cwd: dir,
        stdio: 'ignore',
      },
    );
    const bot = await pidFrom('bot');
    expect(isAlive(bot)).toBe(true);
    agent.kill('SIGKILL');
    await waitFor('bot gone with its parent', () => !isAlive(bot), 2_000);
  });

  it('names trees by bot and work directory, safe as a file name', () => {
    expect(treeName('pi-1/slot 0', '/var/lib/farm-agent/bots/x')).toMatch(
      /^pi-1_slot_0-[0-9a-f]{10}$/,
    );
    expect(treeName('a', '/one')).not.toBe(treeName('a', '/two'));
  });
});
