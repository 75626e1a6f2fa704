import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { botLine, captureLogger, waitFor } from '../../test/rigs/test-bots.js';
import { makeZip } from '../../test/rigs/zip.js';
import { findUser, type BotUser } from './bot-user.js';
import { BotSupervisor } from './supervisor.js';
import { TEST_SUPERVISION } from '../../test/rigs/supervision.js';

const run = promisify(execFile);

const PASSWD = `root:x:0:0:root:/root:/bin/bash
swarming:x:2000:2000:Swarming bot:/home/swarming:/usr/sbin/nologin
`;

describe('findUser', () => {
  it('finds a user by name or uid, with its group and home', () => {
    const swarming = { name: 'swarming', uid: 2000, gid: 2000, home: '/home/swarming' };
    expect(findUser('swarming', PASSWD)).toEqual(swarming);
    expect(findUser('2000', PASSWD)).toEqual(swarming);
  });

  it('refuses a user that is not in /etc/passwd, naming it', () => {
    expect(() => findUser('swarmin', PASSWD)).toThrow('no user "swarmin" in /etc/passwd');
    expect(() => findUser('2000:2000', PASSWD)).toThrow('no user "2000:2000"');
  });
});

/** Reports who it runs as and whether it can read $TOKEN, then writes into its cwd. */
const WHOAMI_BOT = `
import os, sys, time
try:
    open(os.environ['TOKEN']).read()
    token = 'read'
except PermissionError:
    token = 'denied'
open('written-by-bot', 'w').close()
print('bot', os.getuid(), os.getgid(), os.getgroups(), os.environ['HOME'], token, flush=True)
while True:
    time.sleep(3600)
`;

let dir: string;
let supervisor: BotSupervisor | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bot-user-'));
  // As FARM_STATE_DIR: others may pass through to their own bot directory.
  await chmod(dir, 0o755);
});
afterEach(async () => {
  await supervisor?.stop();
  supervisor = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function runBot(user: BotUser | undefined): Promise<{ line: string; workDir: string }> {
  const zip = join(dir, 'bot.zip');
  await makeZip(zip, { '__main__.py': WHOAMI_BOT });
  // Stands for the pod's service-account token: root's alone.
  const token = join(dir, 'token');
  await writeFile(token, 'secret', { mode: 0o600 });
  const workDir = join(dir, 'bots', 'b1');
  const { logger, records } = captureLogger();
  supervisor = new BotSupervisor({
    botId: 'b1',
    workDir,
    zip: async () => zip,
    shimDir: join(dir, 'shims'),
    env: { TOKEN: token },
    user,
    logger,
    registry: new Registry(),
    ...TEST_SUPERVISION,
  });
  supervisor.start();
  const line = await waitFor('the bot to say who it is', () => botLine(records, 'bot ')?.msg);
  return { line, workDir };
}

describe.runIf(process.getuid?.() === 0)('a bot run as another user (agent as root)', () => {
  const nobody = findUser('nobody');

  it('runs without root, its groups or root-only files, in a directory it owns', async () => {
    // What an earlier run as root left behind, and a planted link to a root-only file.
    const workDir = join(dir, 'bots', 'b1');
    await mkdir(workDir, { recursive: true });
    await writeFile(join(workDir, 'state.json'), '{}');
    await symlink(join(dir, 'token'), join(workDir, 'link-to-token'));

    const { line } = await runBot(nobody);

    expect(line).toBe(`bot ${nobody.uid} ${nobody.gid} [] ${nobody.home} denied`);
    // The zip the supervisor copies in is the bot's too: its last-known-good step
    // rewrites swarming_bot.zip in place.
    for (const name of ['.', 'state.json', 'written-by-bot', 'swarming_bot.zip']) {
      expect((await stat(join(workDir, name))).uid, name).toBe(nobody.uid);
    }
    expect((await lstat(join(workDir, 'link-to-token'))).uid).toBe(nobody.uid);
    expect((await stat(join(dir, 'token'))).uid).toBe(0);
  });

  it('without a user runs as the agent, which can read the file (the check above can fail)', async () => {
    const { line } = await runBot(undefined);
    expect(line).toMatch(/^bot 0 0 .* read$/);
  });
});

/** Imports bot_config.py as the bot does, says `ready` and waits. */
const IMPORTING_BOT = `
import sys, bot_config
print('ready', flush=True)
sys.stdin.read()
`;

/** What a task of the same user tries against the bot: its environment and its fds. */
const PRYING_TASK = `
import os, sys
for path in ('/proc/%s/environ' % sys.argv[1], '/proc/%s/fd' % sys.argv[1]):
    try:
        os.listdir(path) if path.endswith('fd') else open(path, 'rb').read()
        print('read')
    except PermissionError:
        print('denied')
`;

describe.runIf(process.getuid?.() === 0)('FARM_BOT_PRIVATE (set with FARM_BOT_USER)', () => {
  const nobody = findUser('nobody');
  const shim = join(import.meta.dirname, '..', 'python');

  async function pry(botPrivate: boolean): Promise<{ task: string[]; agentSeesFds: boolean }> {
    const env = { PATH: process.env.PATH, PYTHONPATH: shim, PYTHONDONTWRITEBYTECODE: '1' };
    const bot = spawn('python3', ['-c', IMPORTING_BOT], {
      uid: nobody.uid,
      gid: nobody.gid,
      env: botPrivate ? { ...env, FARM_BOT_PRIVATE: '1' } : env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      await once(bot.stdout, 'data');
      const { stdout } = await run('python3', ['-c', PRYING_TASK, String(bot.pid)], {
        uid: nobody.uid,
        gid: nobody.gid,
      });
      const agentSeesFds = (await readdir(`/proc/${bot.pid}/fd`)).length > 0;
      return { task: stdout.trim().split('\n'), agentSeesFds };
    } finally {
      bot.kill();
    }
  }

  it("keeps the bot's own tasks out of its /proc files, not the agent", async () => {
    expect(await pry(true)).toEqual({ task: ['denied', 'denied'], agentSeesFds: true });
  });

  it('unset, a task of the same user can read them (the check above can fail)', async () => {
    expect(await pry(false)).toEqual({ task: ['read', 'read'], agentSeesFds: true });
  });
});
