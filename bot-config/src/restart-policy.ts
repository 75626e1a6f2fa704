/**
 * When the supervisor starts the bot again and whether it reports it as
 * quarantined: the restart backoff and the crash window behind one face.
 * No clock or timer of its own: the supervisor passes the times in.
 */
import { Backoff, type BackoffOptions } from './lib/backoff.js';
import { describeExit, type BotExit, type RestartReason } from './bot-exit.js';
import { CrashWindow } from './crash-window.js';

export interface RestartPolicyOptions {
  restartBackoff: BackoffOptions;
  crashes: { max: number; windowMs: number };
  /** Uptime after which backoff resets and a crash quarantine lifts. */
  stableAfterMs: number;
  /** Wait before starting a bot again that ended itself with exit code 0 (`terminate`). */
  terminatedRestartMs: number;
}

export class RestartPolicy {
  private readonly backoff: Backoff;
  private readonly crashWindow: CrashWindow;

  constructor(private readonly options: RestartPolicyOptions) {
    this.backoff = new Backoff(options.restartBackoff);
    this.crashWindow = new CrashWindow({
      ...options.crashes,
      stableAfterMs: options.stableAfterMs,
    });
  }

  /** The quarantine reason while the bot crashes too often. */
  get quarantined(): string | undefined {
    return this.crashWindow.quarantined;
  }

  /** The wait before the next start; `zip_unavailable`: no bot code to start. */
  delay(reason: RestartReason | 'zip_unavailable'): number {
    if (reason === 'reboot_requested') return 0;
    // Deliberate: neither a failure to back off from nor a reason to hurry.
    if (reason === 'terminated') return this.options.terminatedRestartMs;
    return this.backoff.next();
  }

  /** Records a crash; the reason only when this crash puts the bot into quarantine. */
  crashed(exit: BotExit): string | undefined {
    return this.crashWindow.crashed(exit.at, describeExit(exit));
  }

  /**
   * The incarnation started at `startedAt` has been up stableAfterMs: backoff starts
   * over. True only when this lifts a quarantine.
   */
  stayedUp(startedAt: number, now: number): boolean {
    this.backoff.reset();
    return this.crashWindow.stayedUp(startedAt, now);
  }
}
