/**
 * Who may want a phone's port powered or cut, and who wins. Pure: the owner
 * (port-power.ts) keeps the claims and does the switching.
 */

/**
 * `task`: a task runs or is about to (on). `wake`: someone woke the phone to
 * use it (on, for a while). `charge`: charge control cut power at the top of
 * the band (off). `sleep`: the idle lifecycle put the phone to sleep (off).
 */
export type PowerHolder = 'task' | 'wake' | 'charge' | 'sleep';

export type PowerWant = 'on' | 'off';

/** What each holder wants: a holder releases its claim instead of asking for the opposite. */
export const WANT_OF: Readonly<Record<PowerHolder, PowerWant>> = {
  task: 'on',
  wake: 'on',
  charge: 'off',
  sleep: 'off',
};

/**
 * Highest first: whoever needs the phone beats whoever wants it dark, so a
 * task or a wake always finds it powered, and no cut fights another.
 */
const RANK: readonly PowerHolder[] = ['task', 'wake', 'charge', 'sleep'];

export interface PowerClaim {
  holder: PowerHolder;
  /** Shown in /status: why the holder wants it so. */
  reason: string;
  /** When the claim was made (ms since the epoch). */
  since: number;
  /** The claim lapses by itself at this time (a wake holds the phone for a while only). */
  until?: number;
  /**
   * The claim lapses once this says false: a task's claim ends with its bot's
   * process, whose on_after_task never comes if it dies.
   */
  holds?: () => boolean;
}

/** Whether the claim still stands at `now`. */
export function stands(claim: PowerClaim, now: number): boolean {
  return (claim.until === undefined || claim.until > now) && (claim.holds?.() ?? true);
}

/** The claim that decides the port now, or undefined: no claim, so powered (the default). */
export function decidingClaim(claims: Iterable<PowerClaim>, now: number): PowerClaim | undefined {
  const live = [...claims].filter((claim) => stands(claim, now));
  return RANK.map((holder) => live.find((claim) => claim.holder === holder)).find(
    (claim) => claim !== undefined,
  );
}
