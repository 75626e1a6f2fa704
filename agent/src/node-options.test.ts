import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { restoreUserNodeOptions } from './node-options.js';

const BIN = fileURLToPath(new URL('../bin/farm-agent.js', import.meta.url));
/**
 * Preloaded into the real program: a burst of surviving young objects, then the young
 * generation's size and the environment as the program's own code finds them; it exits
 * before main() runs.
 */
const LAUNCH_PROBE = `data:text/javascript,${encodeURIComponent(`
import { getHeapSpaceStatistics } from 'node:v8';
const keep = [];
for (let i = 0; i < 300000; i++) keep.push({ i, s: 'x' + i });
const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(JSON.stringify({ youngMiB: young.space_size / 2 ** 20, kept: keep.length,
  NODE_OPTIONS: process.env.NODE_OPTIONS, SAVED_NODE_OPTIONS: process.env.SAVED_NODE_OPTIONS }));
process.exit(0);`)}`;

async function launched(userOptions: string): Promise<Record<string, unknown>> {
  // Run as the image's entrypoint and `npm start` run it: the file itself, through its #! line.
  const { stdout } = await promisify(execFile)(BIN, ['run'], {
    env: { PATH: process.env.PATH, NODE_OPTIONS: `${userOptions} --import=${LAUNCH_PROBE}` },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('bin/farm-agent.js, started as a program', () => {
  it('caps the young generation at 2 MiB semi-spaces (4 MiB in all)', async () => {
    const { youngMiB } = await launched('');
    expect(youngMiB).toBeLessThanOrEqual(4);
  });

  it("lets the user's NODE_OPTIONS win, and saves them to be given back", async () => {
    const user = '--max-semi-space-size=8';
    const seen = await launched(user);
    expect(seen.youngMiB).toBeGreaterThan(4);
    expect(seen.SAVED_NODE_OPTIONS).toBe(`${user} --import=${LAUNCH_PROBE}`);
  });

  it('is what the image runs: its entrypoint is farm-agent, a link to this file', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    expect(readFileSync(`${root}images/Containerfile`, 'utf8')).toMatch(
      /^ENTRYPOINT \["farm-agent"\]$/m,
    );
    expect(readFileSync(`${root}images/finish-rootfs.sh`, 'utf8')).toContain(
      'ln -sfn "$app/agent/bin/farm-agent.js" "$root/usr/local/bin/farm-agent"',
    );
  });
});

describe('restoreUserNodeOptions', () => {
  it.each([
    [
      { NODE_OPTIONS: '--max-semi-space-size=2 --inspect', SAVED_NODE_OPTIONS: '--inspect' },
      { NODE_OPTIONS: '--inspect' },
    ],
    [{ NODE_OPTIONS: '--max-semi-space-size=2 ', SAVED_NODE_OPTIONS: '' }, {}],
    [{ NODE_OPTIONS: '--inspect' }, { NODE_OPTIONS: '--inspect' }],
  ])('%j becomes %j', (before, after) => {
    const env: NodeJS.ProcessEnv = { ...before };
    restoreUserNodeOptions(env);
    expect(env).toEqual(after);
  });
});
