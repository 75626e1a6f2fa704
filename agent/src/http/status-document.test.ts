import { describe, expect, it } from 'vitest';
import { ExchangeLog, statusDocument, type StatusParts } from './status-document.js';

function parts(overrides: Partial<StatusParts> = {}): StatusParts {
  return {
    node: 'pi-7',
    uptimeSeconds: 12,
    disabled: {},
    swarming: {
      server: 'https://swarming.example',
      pool: 'phones',
      drain: { draining: false, runningTasks: [] },
      bots: [{ botId: 'pi-7-usb-1-1-3' }],
      exchanges: new ExchangeLog(),
    },
    host: { maintenance: {} },
    lifecycle: { 'usb-1-1-3': { idleChecks: 0 } },
    cluster: { reachable: true },
    devices: { adb: 'running' },
    slots: [{ name: 'usb-1-1-3' }],
    ...overrides,
  };
}

describe('statusDocument', () => {
  it("joins each bot's last answered hooks to its status", () => {
    const p = parts();
    p.swarming.exchanges.record(
      { hook: 'get_state', botId: 'pi-7-usb-1-1-3', botOwn: {}, answer: { quarantined: false } },
      Date.parse('2026-12-02T09:00:00Z'),
    );
    const swarming = statusDocument(p).swarming as Record<string, unknown>;
    expect(swarming).toMatchObject({
      enabled: true,
      server: 'https://swarming.example',
      pool: 'phones',
      draining: false,
      runningTasks: [],
    });
    expect(swarming.bots).toEqual([
      {
        botId: 'pi-7-usb-1-1-3',
        lastAnswered: {
          get_state: {
            hook: 'get_state',
            botId: 'pi-7-usb-1-1-3',
            botOwn: {},
            answer: { quarantined: false },
            at: '2026-12-02T09:00:00.000Z',
          },
        },
      },
    ]);
  });

  it('shows absent parts as null, and a standalone cluster with its reason', () => {
    const doc = statusDocument(
      parts({
        disabled: { cluster: 'standalone: no cluster configuration' },
        swarming: { ...parts().swarming, server: undefined, pool: undefined, bots: undefined },
        lifecycle: undefined,
        cluster: undefined,
      }),
    );
    expect(doc).toMatchObject({
      swarming: { enabled: false, server: null, pool: null, bots: [] },
      lifecycle: null,
      cluster: { reachable: false, reason: 'standalone: no cluster configuration' },
      node: 'pi-7',
      uptimeSeconds: 12,
      devices: { adb: 'running' },
      slots: [{ name: 'usb-1-1-3' }],
      host: { maintenance: {} },
    });
  });
});
