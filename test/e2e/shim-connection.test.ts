/**
 * bot_config.py keeps one connection to the agent per thread, so the agent's
 * caller check runs once per connection; when the agent has closed it while
 * idle, the next hook goes out on a fresh one and still gets its answer.
 */
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createHookServer,
  HookMetrics,
  type HookServer,
} from '../../bot-config/src/hook-server.js';
import { BOT_CONFIG_PY } from '../../bot-config/src/paths.js';
import { readyDevices } from '../rigs/ready-devices.js';

const run = promisify(execFile);

/** Five quick get_settings, a pause longer than the agent keeps an idle connection (200 ms, plus the second Node adds), two more. */
const CALLS = `
import json, time, bot_config
answers = [bot_config._call('get_settings', {}, None) for _ in range(5)]
time.sleep(2)
answers += [bot_config._call('get_settings', {}, None) for _ in range(2)]
print(json.dumps(answers))
`;

let app: HookServer;
const connections: Socket[] = [];

beforeAll(async () => {
  app = createHookServer({
    devices: readyDevices([]),
    botQuarantine: () => undefined,
    pool: 'android',
    settings: () => ({ n: 1 }),
    readyWaitMaxMs: 1000,
    onRebootRequested: () => undefined,
    logger: pino({ level: 'silent' }),
    metrics: new HookMetrics(),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  app.server.keepAliveTimeout = 200;
  app.server.on('connection', (socket: Socket) => connections.push(socket));
});
afterAll(() => app.close());

it('reuses its connection, and reconnects once the agent closed it', async () => {
  const { stdout } = await run('python3', ['-c', CALLS], {
    env: {
      PATH: process.env.PATH,
      PYTHONPATH: dirname(BOT_CONFIG_PY),
      PYTHONDONTWRITEBYTECODE: '1',
      FARM_HOOK_URL: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    },
    timeout: 20_000,
  });
  expect(JSON.parse(stdout)).toEqual(Array(7).fill({ n: 1 }));
  expect(connections).toHaveLength(2);
});
