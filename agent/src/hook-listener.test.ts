/**
 * The hook listener is served before the agent's parts exist (main.ts opens it first): what
 * it answers then, and that it answers from the parts once they are attached.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { injectHook } from '../../test/rigs/hook-inject.js';
import { readyDevices } from '../../test/rigs/ready-devices.js';
import { loadConfig } from './config/load.js';
import { HookListener, type HookParts } from './hook-listener.js';
import { createLogger } from './logging.js';
import { createMetricsRegistry } from './metrics.js';

const BOT = 'pi-7--slot1';
const listeners: HookListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.server.close()));
});

function listener(env: Record<string, string> = {}): HookListener {
  const { config } = loadConfig({ FARM_DEVICES: 'none', ...env }, { hostname: 'pi-7', home: '/' });
  const hooks = new HookListener({ config, logger: createLogger('silent') });
  listeners.push(hooks);
  return hooks;
}

const parts = (refusal?: string): HookParts => ({
  devices: readyDevices([BOT]),
  settings: () => ({ from: 'parts' }),
  botQuarantine: () => undefined,
  onRebootRequested: () => undefined,
  authorizeCaller: async () => refusal,
});

const getState = (hooks: HookListener) =>
  injectHook(hooks.server, {
    method: 'POST',
    url: '/get_state',
    headers: { 'x-farm-bot-id': BOT },
    payload: { free_mb: 1 },
  });

describe('the hook listener before the agent is built', () => {
  it.each<Record<string, string>>([{}, { FARM_SWARMING_SERVER: 'https://swarming.example.com' }])(
    'answers a bot hook as for a bot this node does not run (%j)',
    async (env) => {
      const res = await getState(listener(env));
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toBe(`no bot "${BOT}" runs on this node`);
    },
  );

  it('answers get_settings as before the host is read, and /healthz', async () => {
    const hooks = listener({ FARM_HOST_DISK_MIN_FREE: '1Gi' });
    const settings = await injectHook(hooks.server, { method: 'GET', url: '/get_settings' });
    expect(settings.statusCode).toBe(200);
    expect(settings.json().free_partition.root.size).toBe(1024 ** 3);
    expect((await injectHook(hooks.server, { method: 'GET', url: '/healthz' })).json()).toEqual({
      ok: true,
    });
  });

  it('counts the calls it answered before the metrics registry existed, once it does', async () => {
    const hooks = listener();
    await getState(hooks);
    const registry = createMetricsRegistry();
    await hooks.countInto(registry);
    const text = await registry.metrics();
    expect(text).toContain('farm_hook_requests_total{hook="get_state",code="404"} 1');
  });
});

describe('the hook listener once the parts are attached', () => {
  it('answers from them', async () => {
    const hooks = listener();
    hooks.attach(parts());
    const res = await getState(hooks);
    expect(res.statusCode).toBe(200);
    expect(res.json().free_mb).toBe(1);
    const settings = await injectHook(hooks.server, { method: 'GET', url: '/get_settings' });
    expect(settings.json()).toEqual({ from: 'parts' });
  });

  it("checks callers with the parts' check when Swarming is configured", async () => {
    const hooks = listener({ FARM_SWARMING_SERVER: 'https://swarming.example.com' });
    hooks.attach(parts('not the bot'));
    const res = await getState(hooks);
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('not the bot');
  });
});
