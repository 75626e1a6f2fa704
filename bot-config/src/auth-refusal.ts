/**
 * Recognises, in a bot's output, that the Swarming server refuses its requests for want of
 * credentials, so that the agent can say so instead of showing a bot that merely never works.
 *
 * The bot prints only ERROR lines to its console. A refused request shows as
 * `Request to <url> failed with HTTP status code 401: ...` (or 403), followed, for the
 * handshake, by `Failed to contact for handshake, retrying ...` in a loop. The usual cause is a
 * config whose get_authentication_headers answered `(None, None)` before the handshake
 * (LUCI's default off GCE), after which the bot sends no credentials at all for the rest of
 * its process; the bot logs that as `Headers callback returned None, disabling auth`, which is
 * also recognised should it reach the console.
 */

export interface AuthRefusal {
  /** Plain words for /status, the log and the Event. */
  reason: string;
  /** The HTTP status, when the line named one. */
  status?: number;
  url?: string;
}

const REFUSED = /Request to (\S+) failed with HTTP status code (401|403)\b/;
const DISABLED = /Headers callback returned None, disabling auth/;

/** What the line says about authentication, if anything. */
export function authRefusalOf(line: string): AuthRefusal | undefined {
  const refused = REFUSED.exec(line);
  if (refused) {
    const [, url = '', code = ''] = refused;
    const status = Number(code);
    const why =
      status === 401
        ? 'no or invalid credentials'
        : 'its credentials are not allowed to act as this bot';
    return {
      reason:
        `Swarming refuses the bot's requests (HTTP ${status} on ${url}): ${why}. ` +
        'Before the handshake only the bot_config.py inside swarming_bot.zip can authenticate ' +
        '(see the README, "Authentication")',
      status,
      url,
    };
  }
  if (DISABLED.test(line)) {
    return {
      reason:
        "the bot turned authentication off: its bot_config.py's get_authentication_headers " +
        'returned no expiry, so every request goes without credentials until the bot restarts',
    };
  }
  return undefined;
}

export interface AuthRefusalStatus extends AuthRefusal {
  /** When it was first seen since the bot last got through (ms since the epoch). */
  since: number;
  /** Lines seen since then. */
  count: number;
}

/**
 * The refusal state of one bot: set by the first refusing line, counted by later ones, and
 * cleared when the bot gets through to the server (or a new bot process starts). `onRefused`
 * runs once per refusal episode, so a bot retrying every few seconds is reported once.
 */
export class AuthWatch {
  private current: AuthRefusalStatus | undefined;

  constructor(
    private readonly onRefused: (refusal: AuthRefusal) => void,
    private readonly now: () => number = Date.now,
  ) {}

  line(text: string): void {
    const refusal = authRefusalOf(text);
    if (!refusal) return;
    if (this.current) {
      this.current.count += 1;
      // A refused request says more than the earlier "auth off" notice: keep the details.
      if (refusal.status !== undefined && this.current.status === undefined) {
        Object.assign(this.current, refusal);
      }
      return;
    }
    this.current = { ...refusal, since: this.now(), count: 1 };
    this.onRefused(refusal);
  }

  /** The server accepted the bot (a handshake or poll went through), or a new process started. */
  clear(): boolean {
    const had = this.current !== undefined;
    this.current = undefined;
    return had;
  }

  status(): AuthRefusalStatus | undefined {
    return this.current && { ...this.current };
  }
}
