/**
 * V8 flags `farm-agent run` sets for itself, favouring a small footprint on a Pi over peak JS
 * speed (BENCHMARKS.md, "Footprint (issue 16)", 22). bin/farm-agent.js sets them before the
 * agent's modules load (TurboFan's code, once run, stays resident), from inside the process
 * rather than on node's command line, so that every way of starting the agent (`npm start`, the
 * image's entrypoint, the DaemonSet, `node agent/bin/farm-agent.js`, the rigs) gets them from
 * this one place. `farm-agent gate` and the CLI commands keep V8's defaults.
 *
 * - `--no-opt`: no optimising compiler (TurboFan). The agent's JavaScript is glue between
 *   sockets, adb and a few timers; none of it is hot enough to repay what TurboFan costs in
 *   memory (its own code paged in from the node binary, its zones, the optimised code).
 * - `--no-sparkplug`: no baseline compiler either; its code space is gone with it.
 *
 * The user still decides: a flag on node's command line or in NODE_OPTIONS about the same
 * thing (`--opt`, `--turbofan`, `--sparkplug`, ...) leaves ours unset.
 */
import { setFlagsFromString } from 'node:v8';

interface AgentFlag {
  flag: string;
  /** The user's flags, any of which means they chose for themselves. */
  userChoices: readonly string[];
}

export const AGENT_V8_FLAGS: readonly AgentFlag[] = [
  { flag: '--no-opt', userChoices: ['opt', 'turbofan', 'always-opt', 'maglev'] },
  { flag: '--no-sparkplug', userChoices: ['sparkplug', 'always-sparkplug'] },
];

/** The bare name of a V8 flag as the user wrote it: `--no-opt` → `opt`, `--max_old_space_size=9` → `max-old-space-size`. */
function flagName(arg: string): string {
  return arg.replace(/^--?/, '').replace(/=.*$/, '').replace(/^no-/, '').replaceAll('_', '-');
}

/** Of AGENT_V8_FLAGS, those the user's own flags (command line, NODE_OPTIONS) leave to us. */
export function agentFlagsToSet(execArgv: readonly string[], nodeOptions = ''): string[] {
  const chosen = new Set(
    [...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => a.startsWith('-')).map(flagName),
  );
  return AGENT_V8_FLAGS.filter(({ userChoices }) => !userChoices.some((c) => chosen.has(c))).map(
    ({ flag }) => flag,
  );
}

/** Sets the agent's V8 flags the user did not decide on; returns those set. */
export function setAgentV8Flags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS,
): string[] {
  const flags = agentFlagsToSet(execArgv, nodeOptions);
  if (flags.length > 0) setFlagsFromString(flags.join(' '));
  return flags;
}

/**
 * bin/farm-agent.js puts its own flag in front of the user's NODE_OPTIONS and saves theirs
 * in SAVED_NODE_OPTIONS; this gives theirs back, so that the agent's children (the bots, and
 * their tasks) get what the user set and not the agent's flag.
 */
export function restoreUserNodeOptions(env: NodeJS.ProcessEnv = process.env): void {
  const saved = env.SAVED_NODE_OPTIONS;
  if (saved === undefined) return;
  if (saved.trim() === '') delete env.NODE_OPTIONS;
  else env.NODE_OPTIONS = saved;
  delete env.SAVED_NODE_OPTIONS;
}
