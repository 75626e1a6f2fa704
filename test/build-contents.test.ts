import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { reachable as reachableFrom } from './rigs/module-graph.js';

/**
 * What `tsc -b` compiles into a workspace's dist/ (and so into the image) is exactly the modules
 * its entry point can reach: no test, no test double, no module nothing imports. Doubles belong
 * in test/rigs/, beside the tests that use them.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The source files the workspace's tsconfig.json compiles, as tsc itself lists them. */
function compiledFiles(workspace: string): string[] {
  const configPath = join(ROOT, workspace, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error !== undefined)
    throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configPath));
  return parsed.fileNames.map((f) => resolve(f)).sort();
}

/** Relative imports and re-exports, static or dynamic, resolved from `.js` to the `.ts` source. */
const reachable = (entry: string): Set<string> =>
  reachableFrom(entry, { ext: '.ts', dynamic: true });

/** The sources behind a workspace's package exports (dist/x.js is built from src/x.ts). */
function exportedEntries(workspace: string): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, workspace, 'package.json'), 'utf8')) as {
    exports: Record<string, { default: string }>;
  };
  return Object.values(manifest.exports).map(({ default: built }) =>
    join(ROOT, workspace, built.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')),
  );
}

describe('what the build ships', () => {
  // The agent's export loads dist/main.js; agent/bin/farm-agent.js its bundle, built from it.
  it.each(['agent', 'bot-config'])(
    '%s: every compiled module is reachable from its package exports',
    (workspace) => {
      const compiled = compiledFiles(workspace);
      const used = new Set(exportedEntries(workspace).flatMap((entry) => [...reachable(entry)]));
      expect(compiled.length).toBeGreaterThan(5);
      const unreachable = compiled.filter((f) => !used.has(f)).map((f) => relative(ROOT, f));
      expect(unreachable).toEqual([]);
      expect(compiled.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    },
  );
});
