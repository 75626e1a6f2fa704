import type { Logger } from 'pino';
import type { BotExit, ExitKind } from './bot-exit.js';
import type { RestartPolicy } from './restart-policy.js';
import type { SupervisorEvent } from './supervisor-events.js';
import type { SupervisorMetrics } from './supervisor-metrics.js';

export interface ExitReportOptions {
  botId: string;
  policy: RestartPolicy;
  metrics: SupervisorMetrics;
  log: Logger;
  emit: (event: SupervisorEvent) => void;
}

/**
 * How the end of a bot process is told: the log line and the `exited` event, and
 * the crash quarantine a crash loop starts and staying up lifts (the policy
 * decides; metrics, log and listener hear of each change).
 */
export class ExitReport {
  constructor(private readonly options: ExitReportOptions) {}

  exited(exit: BotExit, kind: ExitKind, pid: number | undefined, startedAt: number): void {
    const { botId, policy, metrics, log, emit } = this.options;
    log[kind === 'crash' ? 'warn' : 'info'](
      {
        pid,
        code: exit.code,
        signal: exit.signal,
        error: exit.error,
        uptimeMs: exit.at - startedAt,
      },
      kind === 'terminated'
        ? 'bot ended itself (exit 0, e.g. terminated by the server)'
        : 'bot exited',
    );
    emit({ type: 'exited', botId, pid, exit });
    if (kind !== 'crash') return;
    const reason = policy.crashed(exit);
    if (reason === undefined) return;
    metrics.setQuarantined(true);
    log.error({ reason }, 'bot quarantined');
    emit({ type: 'quarantined', botId, reason });
  }

  stayedUp(startedAt: number, now: number): void {
    const { botId, policy, metrics, log, emit } = this.options;
    if (!policy.stayedUp(startedAt, now)) return;
    metrics.setQuarantined(false);
    log.info('bot stayed up; quarantine lifted');
    emit({ type: 'unquarantined', botId });
  }
}
