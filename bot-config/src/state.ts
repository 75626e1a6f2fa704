/** What the agent decides about a bot's availability; each set field is a human reason. */
export interface OwnedState {
  quarantined?: string;
  maintenance?: string;
}

/**
 * The state to hand back to the bot: every key the bot reported (the server
 * quarantines a bot whose state lacks `running_time` or `sleep_streak`), with
 * `quarantined` and `maintenance` owned by the agent alone, as Skia's hook
 * server did.
 *
 * Both are set to the reason string. A non-empty string is truthy, which is
 * all the bot and server test for, and the server copies `state.maintenance`
 * into the bot's `maintenance_msg` (a string property shown in the bot list),
 * just as it shows the `quarantined` string. Skia's `maintenance: true` would
 * display as "true" and lose the reason; a separate `maintenance_msg` key
 * would be free-form state that nothing reads.
 */
export function mergeState(
  botOwn: Record<string, unknown>,
  owned: OwnedState,
): Record<string, unknown> {
  const state: Record<string, unknown> = { ...botOwn };
  delete state['quarantined'];
  delete state['maintenance'];
  if (owned.quarantined) state['quarantined'] = owned.quarantined;
  if (owned.maintenance) state['maintenance'] = owned.maintenance;
  return state;
}

/** One reason from several independent sources, or undefined when none has one. */
export function joinReasons(...reasons: (string | undefined)[]): string | undefined {
  const present = reasons.filter((r): r is string => r !== undefined && r.trim() !== '');
  return present.length > 0 ? present.join('; ') : undefined;
}
