import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  OperatorCredential,
  operatorAuthorization,
  operatorCredentialPath,
} from '../operator/credential.js';
import { operatorOnly, operatorRoutes } from './operator-routes.js';

let credential: OperatorCredential;
/** The header the CLI sends, read from the file as the CLI reads it. */
let authorization: string;
beforeAll(async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'operator-'));
  credential = new OperatorCredential(operatorCredentialPath(stateDir));
  await credential.write();
  authorization = (await operatorAuthorization(credential.path)) ?? '';
});

function app() {
  const calls: unknown[] = [];
  const server = Fastify();
  const guard = operatorOnly(credential);
  void server.register(
    operatorRoutes(
      {
        slotName: (wanted) => (wanted === 'usb-1-1-3' ? wanted : undefined),
        knownSlots: () => ['usb-1-1-3'],
        setOverride: async (...args) => void calls.push(args),
        effective: () => ({ 'usb-1-1-3': {} }),
      },
      guard,
    ),
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
        headers: { authorization },
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
      headers: { authorization },
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
      headers: { authorization },
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
      headers: { authorization },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/kind/);
  });

  // /sleep and /wake, registered by FarmAgent, are checked in agent-routes.test.ts.
  it.each([
    ['POST', '/operator/override'],
    ['GET', '/operator/overrides'],
  ] as const)('refuse %s %s on the node without the credential', async (method, url) => {
    const { server, calls } = app();
    for (const header of [undefined, 'Bearer wrong', authorization.replace('Bearer ', '')]) {
      const res = await server.inject({
        method,
        url,
        payload: method === 'POST' ? override : undefined,
        remoteAddress: '127.0.0.1',
        headers: header === undefined ? {} : { authorization: header },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toContain(credential.path);
    }
    expect(calls).toEqual([]);
  });
});

describe('the operator credential', () => {
  it('is a new secret at every start, in a file only its owner can read', async () => {
    const { mode } = await stat(credential.path);
    expect(mode & 0o777).toBe(0o600);
    const next = new OperatorCredential(credential.path);
    await next.write();
    expect(credential.accepts(await operatorAuthorization(credential.path))).toBe(false);
    expect(next.accepts(await operatorAuthorization(credential.path))).toBe(true);
    credential = next;
    authorization = (await operatorAuthorization(credential.path)) ?? '';
  });
});
