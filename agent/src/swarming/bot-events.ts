import type { SupervisorEvent } from '@farm-agent/bot-config';
import type { ReportedEvent } from '../cluster/event-dedupe.js';

/**
 * The Kubernetes Event (regarding the Node) a bot supervisor's event becomes, if any: what an
 * operator must hear about without reading the agent's log.
 */
export function clusterEventOf(botId: string, event: SupervisorEvent): ReportedEvent | undefined {
  switch (event.type) {
    case 'restart_scheduled':
      if (event.reason !== 'crash') return undefined;
      return {
        type: 'Warning',
        reason: 'BotRestarted',
        note: `${botId} exited; restarting in ${Math.round(event.delayMs / 1000)} s`,
      };
    case 'auth_refused':
      return { type: 'Warning', reason: 'BotAuthRefused', note: `${botId}: ${event.reason}` };
    case 'auth_accepted':
      return {
        type: 'Normal',
        reason: 'BotAuthAccepted',
        note: `${botId}: Swarming accepts the bot's requests again`,
      };
    default:
      return undefined;
  }
}
