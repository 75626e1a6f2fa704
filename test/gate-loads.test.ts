/**
 * `farm-agent gate` never loads device code: from the built binary's main module (its static
 * imports; the agent itself is imported dynamically, by `run` only) plus everything the gate's
 * entry imports, statically or not. dist/ is walked because type-only imports are gone there:
 * what it imports is what Node loads.
 */
import { execFileSync } from 'node:child_process';
import { relative, resolve } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { reachable } from './rigs/module-graph.js';

const DIST = resolve(import.meta.dirname, '../agent/dist');

beforeAll(() => {
  execFileSync('npx', ['tsc', '-b'], { cwd: resolve(import.meta.dirname, '..'), stdio: 'pipe' });
}, 120_000);

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
