/**
 * The project's own module graph, read from import statements: which local modules a module
 * imports (`from './x.js'` and, if asked, `import('./x.js')`, in any quotes), resolved to the
 * file extension of the tree being walked (`.ts` sources, or `.js` in dist/ and agent/bundle/,
 * where type-only imports are gone).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface GraphOptions {
  /** `.ts` for sources, `.js` for a build. */
  ext: '.ts' | '.js';
  /** Follow `import('./x.js')` too. */
  dynamic: boolean;
}

export function localImports(file: string, options: GraphOptions): string[] {
  const source = readFileSync(file, 'utf8');
  const pattern = options.dynamic
    ? /(?:from|import\()\s*['"`](\.{1,2}\/[^'"`]+)\.js['"`]/g
    : /(?:from|^import)\s*['"`](\.{1,2}\/[^'"`]+)\.js['"`]/gm;
  return [...source.matchAll(pattern)].map((m) =>
    resolve(dirname(file), `${m[1] ?? ''}${options.ext}`),
  );
}

export function reachable(entry: string, options: GraphOptions): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...localImports(file, options));
  }
  return seen;
}
