/**
 * Module hooks that transpile TypeScript in memory (no type check: `tsc -p bench` does that).
 * The rigs find the agent, the bot zip sources and bot_config.py relative to their own file
 * (import.meta.url), so they must run from test/rigs/, not from a compiled copy elsewhere.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const isOurs = (url) => url.startsWith('file:') && !url.includes('/node_modules/');

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent && isOurs(parent) && parent.endsWith('.ts') && /^\.\.?\//.test(specifier)) {
    // NodeNext sources import './x.js' for './x.ts'.
    const url = new URL(specifier, parent);
    if (url.pathname.endsWith('.js') && !existsSync(fileURLToPath(url))) {
      const tsUrl = new URL(url.href.replace(/\.js$/, '.ts'));
      if (existsSync(fileURLToPath(tsUrl))) return { url: tsUrl.href, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.ts') || !isOurs(url)) return nextLoad(url, context);
  const source = await readFile(fileURLToPath(url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      sourceMap: false,
      inlineSourceMap: true,
    },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
