import { botProcessCheck, callerOf, type HookServerOptions } from '@farm-agent/bot-config';
import type { OperatorCredential } from '../operator/credential.js';

/**
 * Read-only hooks the operator may call for any bot: `farm-agent dims` asks
 * them what Swarming would receive, through the same code path.
 */
const OPERATOR_PREVIEW = new Set(['get_state', 'get_dimensions']);

/**
 * Who may call the hooks of the bots this agent runs: each bot's own process
 * (its sudo shim for reboot_requested), and the operator for a preview.
 */
export function hookAccess(
  botPid: (botId: string) => number | undefined,
  operator: OperatorCredential,
): NonNullable<HookServerOptions['authorizeCaller']> {
  const check = botProcessCheck(botPid);
  return async (request, botId, hook) =>
    OPERATOR_PREVIEW.has(hook) && operator.accepts(request.headers.authorization)
      ? undefined
      : check(request.socket, botId, callerOf(hook));
}
