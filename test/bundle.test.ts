/**
 * The bundle agent/bin/farm-agent.js runs (agent/rolldown.config.mjs): adbkit is in it, node-forge
 * is not, and what stands in for node-forge lets adbkit load but refuses any use, naming why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import { beforeAll, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE = resolve(ROOT, 'agent/bundle');

// Built by `npm test` before vitest starts, not here: rebuilding it while other files' tests
// spawn the agent from it would pull it from under them.
beforeAll(() => {
  if (!existsSync(resolve(BUNDLE, 'main.js'))) throw new Error('no agent/bundle: npm run build');
});

/** The bundle's chunks whose text contains `marker` (names only: a failure should not print 1 MB). */
const chunksWith = (marker: string): string[] =>
  readdirSync(BUNDLE).filter(
    (f) => f.endsWith('.js') && readFileSync(resolve(BUNDLE, f), 'utf8').includes(marker),
  );

it('the bin runs the bundle, which carries adbkit and no node-forge', () => {
  expect(readFileSync(resolve(ROOT, 'agent/bin/farm-agent.js'), 'utf8')).toMatch(
    /import \{ main \} from '\.\.\/bundle\/main\.js';/,
  );
  // adbkit, taken in rather than required from node_modules at run time
  expect(chunksWith('host:track-devices')).toHaveLength(1);
  expect(chunksWith('@devicefarmer/adbkit')).toEqual([]);
  // node-forge's OID table (rsaEncryption): seen here when the stand-in is left out
  expect(chunksWith('1.2.840.113549.1.1.1')).toEqual([]);
});

it('a rebuild of unchanged sources touches no file of the bundle agents may be loading', () => {
  const stamps = () =>
    Object.fromEntries(readdirSync(BUNDLE).map((f) => [f, statSync(resolve(BUNDLE, f)).mtimeMs]));
  const before = stamps();
  execFileSync(process.execPath, [resolve(ROOT, 'agent/build/bundle.mjs')], { cwd: ROOT });
  expect(stamps()).toEqual(before);
}, 60_000);

it('no chunk has a character past Latin-1, so V8 keeps its source one byte a character', () => {
  const wide = readdirSync(BUNDLE).filter(
    (f) => f.endsWith('.js') && /[\u0100-\uffff]/.test(readFileSync(resolve(BUNDLE, f), 'utf8')),
  );
  expect(wide).toEqual([]);
});

it("node-forge's stand-in gives what adbkit reads at load and refuses any use, naming why", () => {
  const forge = createRequire(import.meta.url)('../agent/build/no-node-forge.cjs') as {
    jsbn: { BigInteger: () => unknown };
    pki: { rsa: unknown };
    md: { md5: unknown };
  };
  expect(typeof forge.jsbn.BigInteger).toBe('function');
  expect(() => forge.jsbn.BigInteger()).toThrow(/node-forge.jsbn.BigInteger: node-forge is not in/);
  expect(() => forge.pki.rsa).toThrow(/node-forge.pki.rsa: .*TCP-USB bridge/);
  expect(() => forge.md.md5).toThrow(/node-forge.md.md5: /);
});
