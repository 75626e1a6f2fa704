import { delimiter } from 'node:path';
import pino from 'pino';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BotExit } from './bot-exit.js';
import { botEnv, launchBot, stopBot } from './bot-process.js';
import { ProcessTree } from './process-tree.js';

const user = { name: 'swarming', uid: 1001, gid: 1001, home: '/home/swarming' };

describe('botEnv', () => {
  it('puts the sudo shim first on PATH and names the bot, whatever the extras say', () => {
    const env = botEnv(
      {
        botId: 'pi-1-slot-0',
        shimDir: '/shims',
        env: { SWARMING_BOT_ID: 'impostor', FARM_HOOK_URL: 'http://127.0.0.1:1' },
      },
      { PATH: '/usr/bin', HOME: '/root', KEEP: 'yes' },
    );
    expect(env.PATH).toBe(['/shims', '/usr/bin'].join(delimiter));
    expect(env.SWARMING_BOT_ID).toBe('pi-1-slot-0');
    expect(env.SWARMING_EXTERNAL_BOT_SETUP).toBe('1');
    expect(env.PYTHONUNBUFFERED).toBe('1');
    expect(env.FARM_HOOK_URL).toBe('http://127.0.0.1:1');
    expect(env.HOME).toBe('/root');
    expect(env.KEEP).toBe('yes');
  });

  it("takes the extras' PATH behind the shim, and the bot user's identity", () => {
    const env = botEnv(
      { botId: 'b', shimDir: '/shims', env: { PATH: '/opt/py/bin' }, user },
      { PATH: '/usr/bin', HOME: '/root', USER: 'root' },
    );
    expect(env.PATH).toBe(['/shims', '/opt/py/bin'].join(delimiter));
    expect(env).toMatchObject({ HOME: '/home/swarming', USER: 'swarming', LOGNAME: 'swarming' });
  });
});

describe('launchBot', () => {
  it('reports a python missing from the bot PATH as an exit naming it, with no process', async () => {
    const logger = pino({ level: 'silent' });
    const launched = launchBot({
      botId: 'b',
      workDir: '/nonexistent',
      zipPath: '/nonexistent/swarming_bot.zip',
      python: 'no-such-python-here',
      shimDir: '/nonexistent-shims',
      env: { PATH: '/nonexistent-bin' },
      tree: new ProcessTree({ name: 'launch-test', cgroupParent: null, logger }),
      logger,
      now: () => 1234,
    });
    expect(launched.child).toBeUndefined();
    await expect(launched.exited).resolves.toEqual({
      code: null,
      signal: null,
      at: 1234,
      error: 'spawn no-such-python-here ENOENT',
    });
  });
});

describe('stopBot', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function fakeBot(exitsOn: 'SIGTERM' | 'tree kill') {
    let exit!: (e: BotExit) => void;
    const exited = new Promise<BotExit>((resolve) => (exit = resolve));
    const signals: string[] = [];
    const child = {
      kill: (signal: string) => {
        signals.push(signal);
        if (exitsOn === 'SIGTERM') exit({ code: 0, signal: null, at: 0 });
        return true;
      },
    } as unknown as ChildProcess;
    const killed: (number | undefined)[] = [];
    const tree = {
      kill: async (pid?: number) => {
        killed.push(pid);
        exit({ code: null, signal: 'SIGKILL', at: 0 });
        return 1;
      },
    };
    return { bot: { child, pid: 42, exited }, tree, signals, killed };
  }

  it('leaves the tree alone when the bot ends on SIGTERM within its grace', async () => {
    const { bot, tree, signals, killed } = fakeBot('SIGTERM');
    await stopBot(bot, tree, 60_000, pino({ level: 'silent' }));
    expect(signals).toEqual(['SIGTERM']);
    expect(killed).toEqual([]);
  });

  it('kills the whole tree once the grace is over', async () => {
    vi.useFakeTimers();
    const { bot, tree, signals, killed } = fakeBot('tree kill');
    const stopping = stopBot(bot, tree, 5_000, pino({ level: 'silent' }));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(killed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(signals).toEqual(['SIGTERM']);
    expect(killed).toEqual([42]);
  });
});
