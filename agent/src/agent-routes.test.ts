/**
 * The guard on operator commands (node-local, with the operator credential), checked on the
 * routes the agent itself registers (not on a stand-in): removing it from any of them fails
 * this test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmAgent } from './agent.js';
import { loadConfig } from './config/load.js';
import { HookListener } from './hook-listener.js';
import { createLogger } from './logging.js';
import { createMetricsRegistry } from './metrics.js';
import { operatorAuthorization, operatorCredentialPath } from './operator/credential.js';

let agent: FarmAgent;
let stateDir: string;
/** What the CLI sends, read from the file as the CLI reads it. */
let authorization: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'farm-agent-routes-'));
  const { config } = loadConfig(
    { FARM_DEVICES: 'adb', FARM_STATE_DIR: stateDir },
    { hostname: 'pi-7', home: stateDir },
  );
  // Built, not started: no adb server is needed to route a request.
  const logger = createLogger('silent');
  const registry = createMetricsRegistry();
  const hooks = new HookListener({ config, logger });
  agent = new FarmAgent({ config, logger, registry, hooks });
  // What start() does first; the rest of start() (adb) is not needed to route a request.
  await agent.operator.write();
  authorization = (await operatorAuthorization(operatorCredentialPath(stateDir))) ?? '';
  await agent.clusterServer.ready();
});
afterAll(async () => {
  await agent.clusterServer.close();
  await rm(stateDir, { recursive: true, force: true });
});

const OPERATOR_COMMANDS = [
  { method: 'POST', url: '/sleep' },
  { method: 'POST', url: '/operator/override' },
  { method: 'GET', url: '/operator/overrides' },
] as const;
const OVERRIDE = { kind: 'maintenance', reason: 'rack 4 rewiring' };

describe("the agent's cluster listener", () => {
  it.each(OPERATOR_COMMANDS)('refuses $method $url from the lab network', async (route) => {
    const res = await agent.clusterServer.inject({
      ...route,
      ...(route.method === 'POST' ? { payload: OVERRIDE } : {}),
      remoteAddress: '192.168.1.30',
      // Even with the credential: it is meant for the node alone.
      headers: { authorization },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toContain('from the node itself only');
  });

  it.each(OPERATOR_COMMANDS)(
    'refuses $method $url from the node without the credential',
    async (route) => {
      for (const header of [undefined, 'Bearer wrong']) {
        const res = await agent.clusterServer.inject({
          ...route,
          ...(route.url === '/operator/override' ? { payload: OVERRIDE } : {}),
          remoteAddress: '127.0.0.1',
          headers: header === undefined ? {} : { authorization: header },
        });
        expect(res.statusCode).toBe(401);
        expect(res.json().error).toContain(operatorCredentialPath(stateDir));
      }
    },
  );

  it.each(OPERATOR_COMMANDS)(
    'takes $method $url from the node with the credential',
    async (route) => {
      const res = await agent.clusterServer.inject({
        ...route,
        ...(route.url === '/operator/override' ? { payload: OVERRIDE } : {}),
        remoteAddress: '127.0.0.1',
        headers: { authorization },
      });
      expect(res.statusCode).toBe(200);
    },
  );

  it('lets anyone wake the phones and read the lifecycle', async () => {
    for (const url of ['/wake', '/lifecycle', '/healthz']) {
      const res = await agent.clusterServer.inject({ url, remoteAddress: '192.168.1.30' });
      expect([url, res.statusCode]).toEqual([url, 200]);
    }
  });
});
