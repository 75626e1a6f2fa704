/**
 * Children that die with the agent. A SIGKILLed agent runs no exit handler, so whatever
 * it started lives on with ppid 1, holding ports and phones. Linux's parent-death signal
 * (prctl PR_SET_PDEATHSIG) has the kernel signal a child when its parent dies. Node
 * cannot call prctl, so the command runs under `setpriv --pdeathsig KILL` (util-linux),
 * which sets it and execs the command: the pid stays the command's, and the setting
 * survives that exec (the kernel clears it only for set-user-ID programs and capability
 * changes). It follows the thread that spawned the child; Node spawns from its main
 * thread, which lives as long as the process.
 */
import { findOnPath } from './find-on-path.js';

export interface DeathBoundCommand {
  command: string;
  args: string[];
  /** False when no `setpriv` was found: the command runs as it is and can outlive us. */
  diesWithParent: boolean;
}

/**
 * `command args` wrapped so that the child gets SIGKILL when this process dies. A command
 * that cannot be found is left unwrapped, so spawn() still fails with its own ENOENT
 * instead of setpriv exiting 127.
 */
export function dieWithParent(
  command: string,
  args: readonly string[],
  options: {
    /** The setpriv program; default: found on PATH. `null`: none. */
    setpriv?: string | null;
    /**
     * Run as this user. The switch is made by setpriv together with the parent-death signal:
     * the kernel clears that signal on a credential change made after it.
     */
    user?: { uid: number; gid: number };
  } = {},
): DeathBoundCommand {
  const setpriv =
    options.setpriv === undefined ? findOnPath('setpriv') : (options.setpriv ?? undefined);
  if (setpriv === undefined || findOnPath(command) === undefined) {
    return { command, args: [...args], diesWithParent: false };
  }
  const { user } = options;
  const switchUser = user
    ? ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups']
    : [];
  return {
    command: setpriv,
    args: [...switchUser, '--pdeathsig', 'KILL', '--', command, ...args],
    diesWithParent: true,
  };
}
