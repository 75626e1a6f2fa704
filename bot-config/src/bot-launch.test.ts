import { delimiter } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { botEnv, launchBot } from './bot-launch.js';
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
