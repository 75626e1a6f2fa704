/**
 * Hooks first (main.ts): the real program's hook listener is up before Fastify, prom-client and
 * the agent's own dependencies are loaded, each of which would hold the hooks back at start-up.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { standaloneEnv } from './rigs/standalone-env.js';

const BIN = fileURLToPath(new URL('../agent/bin/farm-agent.js', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./rigs/packages-at-listen.mjs', import.meta.url));

it('the hook listener listens with only pino of the npm packages that matter', async () => {
  const state = await mkdtemp(join(tmpdir(), 'hooks-first-'));
  try {
    const { env, hookPort } = await standaloneEnv(state, 'adb');
    const run = promisify(execFile);
    const { stderr } = await run(process.execPath, ['--import', PRELOAD, BIN, 'run'], { env });
    const { port, packages } = JSON.parse(stderr.trim().split('\n').at(-1) ?? '') as {
      port: number;
      packages: string[];
    };
    expect(port).toBe(hookPort);
    expect(packages).toEqual(expect.arrayContaining(['pino']));
    const later = [
      'fastify',
      'ajv',
      'prom-client',
      '@devicefarmer/adbkit',
      'js-yaml',
      '@kubernetes/client-node',
    ];
    expect(packages.filter((name) => later.includes(name))).toEqual([]);
  } finally {
    await rm(state, { recursive: true, force: true });
  }
});
