/**
 * bin/farm-agent.js's #! line puts the agent's one Node flag, `--max-semi-space-size=2`
 * (BENCHMARKS.md, "Footprint (issue 16)", 23), in front of the user's NODE_OPTIONS and saves
 * theirs in SAVED_NODE_OPTIONS; this gives theirs back, so that the agent's children (the bots, and
 * their tasks) get what the user set and not the agent's flag.
 */
export function restoreUserNodeOptions(env: NodeJS.ProcessEnv = process.env): void {
  const saved = env.SAVED_NODE_OPTIONS;
  if (saved === undefined) return;
  if (saved.trim() === '') delete env.NODE_OPTIONS;
  else env.NODE_OPTIONS = saved;
  delete env.SAVED_NODE_OPTIONS;
}
