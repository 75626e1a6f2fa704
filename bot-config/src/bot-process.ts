/**
 * One bot process (`python3 <zip> start_bot`): started inside its ProcessTree,
 * as the bot user when there is one, and stopped gently, then with its whole
 * tree. Never throws: a process that cannot start is an immediate exit
 * carrying the error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter } from 'node:path';
import type { Logger } from 'pino';
import { settlesWithin } from './lib/async.js';
import type { BotExit } from './bot-exit.js';
import type { BotUser } from './bot-user.js';
import { findOnPath } from './find-on-path.js';
import type { ProcessTree } from './process-tree.js';

export interface BotLaunch {
  botId: string;
  workDir: string;
  zipPath: string;
  /** Looked up on the bot's PATH. */
  python: string;
  /** Put first on the bot's PATH (holds the `sudo` shim). */
  shimDir: string;
  env?: Record<string, string>;
  user?: BotUser;
  tree: ProcessTree;
  logger: Logger;
  now: () => number;
}

/** `child` is missing when no process started; `exited` then resolves at once with the error. */
export interface LaunchedBot {
  child?: ChildProcess;
  exited: Promise<BotExit>;
}

/**
 * The bot's environment: the agent's, the user's identity, the caller's extras,
 * then what the supervisor owns (bot id, external setup, the shim first on PATH).
 */
export function botEnv(
  launch: Pick<BotLaunch, 'botId' | 'shimDir' | 'env' | 'user'>,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const { botId, shimDir, env, user } = launch;
  return {
    ...base,
    ...(user && { HOME: user.home, USER: user.name, LOGNAME: user.name }),
    // Without it python block-buffers a piped stdout: lines arrive late and die with a SIGKILL.
    PYTHONUNBUFFERED: '1',
    ...env,
    SWARMING_BOT_ID: botId,
    SWARMING_EXTERNAL_BOT_SETUP: '1',
    PATH: [shimDir, env?.PATH ?? base.PATH ?? ''].join(delimiter),
  };
}

export function launchBot(launch: BotLaunch): LaunchedBot {
  const { workDir, zipPath, python, user, tree, now } = launch;
  const env = { ...botEnv(launch), ...tree.markerEnv() };
  const failed = (error: string): LaunchedBot => ({
    exited: Promise.resolve({ code: null, signal: null, at: now(), error }),
  });
  // Looked up here: behind the wrapper a missing python would be an anonymous exit 127.
  const program = findOnPath(python, env.PATH);
  // Worded as node's own spawn error, which it replaces.
  if (program === undefined) return failed(`spawn ${python} ENOENT`);
  // As another user, `env` looks python up again once the switch is done and root's
  // capabilities are gone: an entry only root can reach (a python under /root) is skipped
  // for the next one. env execs it, so the pid stays the bot's.
  const command = user
    ? tree.wrap(findOnPath('env', env.PATH) ?? '/usr/bin/env', [python, zipPath, 'start_bot'], user)
    : tree.wrap(program, [zipPath, 'start_bot']);
  let child: ChildProcess;
  try {
    // Own process group too: a task it forks without detaching shares it.
    child = spawn(command.command, command.args, {
      cwd: workDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      // Only without setpriv does spawn switch user (libuv also drops root's supplementary
      // groups); the bot then cannot join its cgroup and is tracked through /proc alone.
      ...(user && !command.switchesUser && { uid: user.uid, gid: user.gid }),
    });
  } catch (err) {
    return failed(String(err));
  }
  const exited = new Promise<BotExit>((resolveExit) => {
    // 'exit', not 'close': a grandchild holding the pipes open must not delay the restart.
    child.once('exit', (code, signal) => resolveExit({ code, signal, at: now() }));
    child.on('error', (err) => {
      // Without a pid the spawn itself failed and no 'exit' will follow; later errors
      // (a failed kill) leave the process running.
      if (child.pid === undefined) {
        resolveExit({ code: null, signal: null, at: now(), error: err.message });
      } else {
        launch.logger.warn({ err }, 'bot process error');
      }
    });
  });
  return { child, exited };
}

/**
 * SIGTERM to the bot alone: it is the one that knows how to end its task
 * cleanly. After `graceMs`, SIGKILL to its whole tree. Resolves once it exited.
 */
export async function stopBot(
  bot: { child: ChildProcess; pid: number; exited: Promise<BotExit> },
  tree: Pick<ProcessTree, 'kill'>,
  graceMs: number,
  logger: Pick<Logger, 'info' | 'warn'>,
): Promise<void> {
  logger.info({ pid: bot.pid, graceMs }, 'stopping bot');
  bot.child.kill('SIGTERM');
  if (await settlesWithin(bot.exited, graceMs)) return;
  // The bot checks its quit flag only between tasks: a long task ends here.
  logger.warn({ pid: bot.pid }, 'bot still running after its grace; killing its tree');
  await tree.kill(bot.pid);
  await bot.exited;
}
