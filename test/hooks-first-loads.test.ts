/**
 * Hooks first (main.ts): the real program's hook listener is up before prom-client and the
 * agent's own dependencies are loaded, each of which would hold the hooks back at start-up.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { freePort } from './rigs/ports.js';

const BIN = fileURLToPath(new URL('../agent/bin/farm-agent.js', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./rigs/packages-at-listen.mjs', import.meta.url));

it('the hook listener listens with only Fastify and pino of the npm packages that matter', async () => {
  const [httpPort, hookPort, adbPort] = [await freePort(), await freePort(), await freePort()];
  const state = await mkdtemp(join(tmpdir(), 'hooks-first-'));
  try {
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', PRELOAD, BIN, 'run'],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: state,
          FARM_STATE_DIR: state,
          FARM_HTTP_HOST: '127.0.0.1',
          FARM_HTTP_PORT: String(httpPort),
          FARM_HOOK_PORT: String(hookPort),
          FARM_ADB_PORT: String(adbPort),
          FARM_DEVICES: 'adb',
        },
      },
    );
    const { port, packages } = JSON.parse(stderr.trim().split('\n').at(-1) ?? '') as {
      port: number;
      packages: string[];
    };
    expect(port).toBe(hookPort);
    expect(packages).toEqual(expect.arrayContaining(['fastify', 'pino']));
    const later = ['prom-client', '@devicefarmer/adbkit', 'js-yaml', '@kubernetes/client-node'];
    expect(packages.filter((name) => later.includes(name))).toEqual([]);
  } finally {
    await rm(state, { recursive: true, force: true });
  }
});
