/**
 * Who may make a hook call: refusals the hook server answers with a status and a reason, and
 * the check of the calling process for the bots this node runs.
 */
import type { IncomingMessage } from 'node:http';

/** A refused call: the hook server answers it with this status and message. */
export class HookRefusal extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Undefined lets a hook call through; a string refuses it with 403 and says why. */
export type AuthorizeCaller<H extends string> = (
  request: IncomingMessage,
  botId: string,
  hook: H,
) => Promise<string | undefined>;

/**
 * Asks `authorize` about a call of `hook` whose header names one of this node's bots, before
 * its body is even read (a stranger's body is nobody's business), and throws a 403 refusal when
 * it says no (the server logs it). Other ids pass untouched, so a missing, malformed or repeated header still gets its
 * 400 from the header check and an unknown bot its 404.
 */
export function refuseStrangers<H extends string>(
  authorize: AuthorizeCaller<H>,
  knows: (botId: string) => boolean,
): (request: IncomingMessage, botId: unknown, hook: H) => Promise<void> {
  return async (request, botId, hook) => {
    if (typeof botId !== 'string' || !knows(botId)) return;
    const refused = await authorize(request, botId, hook);
    if (refused !== undefined) throw new HookRefusal(403, refused);
  };
}
