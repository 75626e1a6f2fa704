/**
 * The bundle agent/bin/farm-agent.js runs (agent/rolldown.config.mjs): adbkit is in it, node-forge
 * is not, and what stands in for node-forge lets adbkit load but refuses any use, naming why.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

const bundleText = (): string =>
  readdirSync(BUNDLE)
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(resolve(BUNDLE, f), 'utf8'))
    .join('\n');

it('the bin runs the bundle, which carries adbkit and no node-forge', () => {
  expect(readFileSync(resolve(ROOT, 'agent/bin/farm-agent.js'), 'utf8')).toMatch(
    /import \{ main \} from '\.\.\/bundle\/main\.js';/,
  );
  const text = bundleText();
  expect(text).toContain('host:track-devices'); // adbkit, taken in rather than required at run time
  expect(text).not.toContain('forge.pki.rsa'); // node-forge's RSA module
  expect(text).not.toMatch(/require\(`@devicefarmer\/adbkit`\)|require\("@devicefarmer\/adbkit"\)/);
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
