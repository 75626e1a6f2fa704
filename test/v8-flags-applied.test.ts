/**
 * The real program sets its V8 flags (agent/src/v8-flags.ts) for `run` as it starts: by the time
 * its first server listens, a function called hot stays in the interpreter.
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
/** Once the first server listens: a hot function's %GetOptimizationStatus (16 optimised, 128 interpreted), then exit. */
const PROBE = `data:text/javascript,${encodeURIComponent(`
import net from 'node:net';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  net.Server.prototype.listen = listen;
  this.once('listening', () => {
    function add(a, b) { return a + b; }
    let sum = 0;
    for (let i = 0; i < 3e6; i++) sum = add(sum, i);
    const status = %GetOptimizationStatus(add);
    process.stderr.write(JSON.stringify({ optimised: (status & 16) !== 0, interpreted: (status & 128) !== 0 }) + '\\n');
    process.exit(0);
  });
  return listen.apply(this, args);
};`)}`;

it('farm-agent run keeps hot code in the interpreter once it serves', async () => {
  const state = await mkdtemp(join(tmpdir(), 'v8-flags-'));
  try {
    const { env } = await standaloneEnv(state, 'none');
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ['--allow-natives-syntax', `--import=${PROBE}`, BIN, 'run'],
      { env },
    );
    expect(JSON.parse(stderr.trim().split('\n').at(-1) ?? '')).toEqual({
      optimised: false,
      interpreted: true,
    });
  } finally {
    await rm(state, { recursive: true, force: true });
  }
});
