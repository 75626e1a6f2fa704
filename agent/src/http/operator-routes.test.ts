import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { operatorRoutes } from './operator-routes.js';

function app() {
  const calls: unknown[] = [];
  const server = Fastify();
  void server.register(
    operatorRoutes({
      slotName: (wanted) => (wanted === 'usb-1-1-3' ? wanted : undefined),
      knownSlots: () => ['usb-1-1-3'],
      setOverride: async (...args) => void calls.push(args),
      effective: () => ({ 'usb-1-1-3': {} }),
    }),
  );
  return { server, calls };
}

const override = { kind: 'quarantine', slot: 'usb-1-1-3', reason: 'cracked screen' };

describe('operator routes', () => {
  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1'])(
    'take commands from the node (%s)',
    async (ip) => {
      const { server, calls } = app();
      const res = await server.inject({
        method: 'POST',
        url: '/operator/override',
        payload: override,
        remoteAddress: ip,
      });
      expect(res.statusCode).toBe(200);
      expect(calls).toEqual([['quarantine', 'usb-1-1-3', 'cracked screen']]);
    },
  );

  // Every operator route the agent registers, /sleep included, is checked in agent-routes.test.ts.
  it('refuse the lab network', async () => {
    const { server, calls } = app();
    const res = await server.inject({
      method: 'POST',
      url: '/operator/override',
      payload: override,
      remoteAddress: '192.168.1.30',
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toContain('from the node itself only');
    expect(calls).toEqual([]);
  });

  it('names the known slots for an unknown one', async () => {
    const { server } = app();
    const res = await server.inject({
      method: 'POST',
      url: '/operator/override',
      payload: { ...override, slot: 'usb-9' },
      remoteAddress: '127.0.0.1',
    });
    expect([res.statusCode, res.json()]).toEqual([
      404,
      { error: 'no slot "usb-9" (known: usb-1-1-3)' },
    ]);
  });

  it('refuses a malformed command with the reason', async () => {
    const { server } = app();
    const res = await server.inject({
      method: 'POST',
      url: '/operator/override',
      payload: { kind: 'reboot', reason: 'x' },
      remoteAddress: '127.0.0.1',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/kind/);
  });
});
