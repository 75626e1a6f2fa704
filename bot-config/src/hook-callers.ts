/**
 * Who may call a bot's hooks: that bot's own process, and for
 * `/reboot_requested` only the sudo shim it runs as a direct child.
 *
 * Swarming tasks run as descendants of the bot (task_runner, then
 * run_isolated, each in its own session) with the bot's uid and environment,
 * so nothing a task can read tells it apart from the bot: no header, no
 * secret in the environment or a file, not even the uid. What a task cannot
 * do is hold a socket of the bot's process, or be the bot's direct child, so
 * the connection's owner is checked in /proc (peer-process.ts).
 */
import type { Socket } from 'node:net';
import { childrenOf, holdsSocket, peerSocketInode } from './peer-process.js';

/** `sudo`: the shim the bot's host_reboot runs; it may report a reboot and nothing else. */
export type HookCaller = 'bot' | 'sudo';

export function callerOf(hook: string): HookCaller {
  return hook === 'reboot_requested' ? 'sudo' : 'bot';
}

/** Undefined when allowed; else why not, for the 403 answer. */
export type CallerCheck = (
  socket: Socket,
  botId: string,
  caller: HookCaller,
) => Promise<string | undefined>;

/**
 * `botPid`: the running process of a bot this agent supervises, undefined when there is none.
 *
 * A connection found to be the bot's stays the bot's while it lives: Python's
 * sockets are not inherited across exec (PEP 446), and the shim keeps its
 * connection alive, so the lookup (whose cost grows with the node's TCP
 * sockets) runs once per connection, not per call. It runs again if the
 * connection speaks for another bot or role, or the bot has another process.
 */
export function botProcessCheck(botPid: (botId: string) => number | undefined): CallerCheck {
  const known = new WeakMap<Socket, string>();
  return async (socket, botId, caller) => {
    const pid = botPid(botId);
    if (pid === undefined) return `bot "${botId}" is not running on this node`;
    const identity = `${caller} ${botId} ${pid}`;
    if (known.get(socket) === identity) return undefined;
    const { remoteAddress, remotePort, localAddress, localPort } = socket;
    if (!remoteAddress || !remotePort || !localAddress || !localPort) {
      return 'the connection is closed';
    }
    const inode = await peerSocketInode(
      { address: remoteAddress, port: remotePort },
      { address: localAddress, port: localPort },
    );
    if (inode === undefined) return `no local process holds ${remoteAddress}:${remotePort}`;
    const candidates = caller === 'bot' ? [pid] : await childrenOf(pid);
    for (const candidate of candidates) {
      if (await holdsSocket(candidate, inode)) {
        known.set(socket, identity);
        return undefined;
      }
    }
    return caller === 'bot'
      ? `the caller is not bot ${botId}'s process (pid ${pid})`
      : `the caller is not a direct child of bot ${botId}'s process (pid ${pid})`;
  };
}
