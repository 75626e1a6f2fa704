import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ReportedEvent } from '../cluster/event-dedupe.js';
import { rebootRequests } from './reboot-requests.js';

describe('rebootRequests', () => {
  it('counts the request, reports it and restarts the asking bot instead', async () => {
    const registry = new Registry();
    const reported: ReportedEvent[] = [];
    const restarts: unknown[][] = [];
    const onRequest = rebootRequests({
      registry,
      logger: pino({ level: 'silent' }),
      swarming: {
        expectRestart: (...args) => {
          restarts.push(args);
          return true;
        },
      },
      report: (event) => reported.push(event),
    });
    onRequest('pi-7-usb-1-1-3', ['reboot', 'now'], 4242);
    expect(restarts).toEqual([['pi-7-usb-1-1-3', 'sudo reboot now', 4242]]);
    expect(reported).toEqual([
      {
        type: 'Warning',
        reason: 'RebootRequested',
        note: 'pi-7-usb-1-1-3 ran sudo reboot now; restarting the bot instead',
      },
    ]);
    expect(await registry.metrics()).toMatch(
      /^farm_reboot_requests_total\{bot="pi-7-usb-1-1-3"\} 1$/m,
    );
  });

  it('without Swarming there is no bot to restart, and nothing throws', () => {
    const reported: ReportedEvent[] = [];
    const onRequest = rebootRequests({
      registry: new Registry(),
      logger: pino({ level: 'silent' }),
      swarming: undefined,
      report: (event) => reported.push(event),
    });
    expect(() => onRequest('host-bot', ['reboot'], undefined)).not.toThrow();
    expect(reported).toHaveLength(1);
  });
});
