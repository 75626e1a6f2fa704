import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { ReportedEvent } from '../cluster/event-dedupe.js';
import type { SwarmingHost } from './swarming-host.js';

export interface RebootRequestsOptions {
  registry: Registry;
  logger: Logger;
  /** Undefined when no Swarming bot is run (then no bot can ask). */
  swarming: Pick<SwarmingHost, 'expectRestart'> | undefined;
  /** Tells the cluster, if there is one. */
  report: (event: ReportedEvent) => void;
}

/**
 * What happens when a bot runs `sudo reboot` through the shim: the host is
 * never rebooted (it carries other phones' bots); the request is counted,
 * reported as a Warning Event, and the asking bot is restarted instead.
 */
export function rebootRequests(
  options: RebootRequestsOptions,
): (botId: string, argv: string[], ppid: number | undefined) => void {
  const counter = new Counter({
    name: 'farm_reboot_requests_total',
    help: 'Reboots the Swarming bot asked for through the sudo shim (never executed).',
    labelNames: ['bot'],
    registers: [options.registry],
  });
  return (botId, argv, ppid) => {
    counter.inc({ bot: botId });
    const command = `sudo ${argv.join(' ')}`;
    options.report({
      type: 'Warning',
      reason: 'RebootRequested',
      note: `${botId} ran ${command}; restarting the bot instead`,
    });
    const known = options.swarming?.expectRestart(botId, command, ppid) ?? false;
    options.logger.warn(
      { bot: botId, argv, known },
      'bot asked to reboot the host; restarting the bot instead',
    );
  };
}
