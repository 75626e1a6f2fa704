/**
 * What a BotSupervisor tells the rest of the agent: the events it emits as
 * they happen and the status it answers when asked.
 */
import type { AuthRefusalStatus } from './auth-refusal.js';
import type { BotExit, RestartReason } from './bot-exit.js';

export type SupervisorEvent =
  | { type: 'started'; botId: string; pid: number; at: number }
  | { type: 'exited'; botId: string; pid?: number; exit: BotExit }
  | {
      type: 'restart_scheduled';
      botId: string;
      /** `zip_unavailable`: the bot code could not be fetched; the start is retried. */
      reason: RestartReason | 'zip_unavailable';
      delayMs: number;
    }
  | { type: 'quarantined'; botId: string; reason: string }
  | { type: 'unquarantined'; botId: string }
  /** The bot's output shows the server refusing its credentials (see auth-refusal.ts). */
  | { type: 'auth_refused'; botId: string; reason: string }
  | { type: 'auth_accepted'; botId: string };

export interface BotStatus {
  botId: string;
  running: boolean;
  pid?: number;
  startedAt?: number;
  /** Replacement processes started after an exit. */
  restarts: number;
  lastExit?: BotExit;
  quarantined?: string;
  /** Set while the server refuses the bot's requests for authentication. */
  authRefused?: AuthRefusalStatus;
  /** How the bot's processes are tracked: `cgroup <dir>` or `proc-marker`. */
  processTree: string;
}
