/**
 * `farm-agent gate` never loads device code: from the built binary's main module (its static
 * imports; the agent itself is imported dynamically, by `run` only) plus everything the gate's
 * entry imports, statically or not. dist/ is walked because type-only imports are gone there:
 * what it imports is what Node loads.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { reachable } from './rigs/module-graph.js';

const DIST = resolve(import.meta.dirname, '../agent/dist');
const BUNDLE = resolve(import.meta.dirname, '../agent/bundle');

beforeAll(() => {
  execFileSync('npx', ['tsc', '-b'], { cwd: resolve(import.meta.dirname, '..'), stdio: 'pipe' });
}, 120_000);

/**
 * The bundle's chunks the gate runs (agent/bundle is built by `npm test` before vitest starts, not
 * here, where rebuilding it would pull it from under other files' tests): main.js's static imports, and gate-main's whole graph. */
function gateChunks(): string[] {
  const main = resolve(BUNDLE, 'main.js');
  const gateEntry = [...reachable(main, { ext: '.js', dynamic: true })].find((f) =>
    f.startsWith(resolve(BUNDLE, 'gate-main-')),
  );
  expect(gateEntry).toBeDefined();
  return [
    ...new Set([
      ...reachable(main, { ext: '.js', dynamic: false }),
      ...reachable(gateEntry ?? main, { ext: '.js', dynamic: true }),
    ]),
  ];
}

// adbkit's device tracking, the battery reading, and the Swarming bot's start command.
const DEVICE_OR_BOT_CODE = /host:track-devices|dumpsys battery|start_bot/;

it('the gate loads no adb, slot, lifecycle, Swarming or host code', () => {
  const loaded = new Set([
    ...reachable(resolve(DIST, 'main.js'), { ext: '.js', dynamic: false }),
    ...reachable(resolve(DIST, 'gate-main.js'), { ext: '.js', dynamic: true }),
  ]);
  const names = [...loaded].map((f) => relative(DIST, f)).sort();
  expect(names).toContain('gate/gate.js');
  const forbidden = names.filter(
    (n) => n === 'agent.js' || /^(devices|lifecycle|swarming|host|operator)\//.test(n),
  );
  expect(forbidden).toEqual([]);
});

it('the walk would see the agent if main imported it statically', () => {
  const withAgent = reachable(resolve(DIST, 'main.js'), { ext: '.js', dynamic: true });
  expect([...withAgent].map((f) => relative(DIST, f))).toContain('devices/adb-backend.js');
});

it('in the bundle the agent runs, the gate loads no adb or Swarming code either', () => {
  const chunks = gateChunks();
  expect(chunks.length).toBeGreaterThan(1);
  const carrying = chunks.filter((f) => DEVICE_OR_BOT_CODE.test(readFileSync(f, 'utf8')));
  expect(carrying.map((f) => relative(BUNDLE, f))).toEqual([]);
});

it('the bundle check would see the agent if the gate reached its chunk', () => {
  const all = reachable(resolve(BUNDLE, 'main.js'), { ext: '.js', dynamic: true });
  expect([...all].some((f) => DEVICE_OR_BOT_CODE.test(readFileSync(f, 'utf8')))).toBe(true);
});
