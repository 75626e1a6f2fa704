/**
 * What one exit of the bot process means for the supervisor: a crash to back
 * off from, a requested reboot, a deliberate end, or the agent's own stop.
 * Pure: the supervisor acts on the answer.
 */

/** `terminated`: the bot exited 0 by itself (the server's `terminate`), a deliberate stop. */
export type RestartReason = 'crash' | 'reboot_requested' | 'terminated';

export interface BotExit {
  code: number | null;
  signal: string | null;
  at: number;
  /** Set when the process could not be started at all (e.g. python missing). */
  error?: string;
}

/** Why the bot exited; `stopped` when the supervisor itself was stopping it. */
export type ExitKind = RestartReason | 'stopped';

/**
 * A reboot the sudo shim announced wins over everything (its SIGKILL is the
 * expected way out, even during a stop); then the agent's stop; a clean exit 0
 * is the bot ending itself; anything else is a crash.
 */
export function classifyExit(
  exit: BotExit,
  context: { stopped: boolean; rebootRequested: boolean },
): ExitKind {
  if (context.rebootRequested) return 'reboot_requested';
  if (context.stopped) return 'stopped';
  return exit.code === 0 ? 'terminated' : 'crash';
}

/** `exit code 1`, `signal SIGSEGV`, or the spawn error: the tail of a quarantine reason. */
export function describeExit(exit: BotExit): string {
  if (exit.error !== undefined) return exit.error;
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
