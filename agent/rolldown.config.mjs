/**
 * The agent as it runs: `tsc -b` output (agent/dist, bot-config/dist) and its runtime dependencies
 * bundled into agent/bundle (by agent/build/bundle.mjs, `npm run bundle`), which
 * agent/bin/farm-agent.js loads. Loading ~430 CommonJS files and
 * ~200 ES modules one by one cost the agent ~10 MiB of RSS (each module's source, wrapper and
 * loader records) and start-up time; one minified graph with lazily loaded chunks for the
 * commands that are not `run` costs less (BENCHMARKS.md, "Footprint (issue 16)", 27).
 * Unit tests still import the sources; every e2e test and the image run this bundle.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'rolldown';

// bot-config finds its Python shim and sudo shim next to its own module; kept out of the bundle,
// it still looks beside bot-config/dist/paths.js, where the files are, and not beside a chunk.
const BOT_CONFIG_PATHS = fileURLToPath(new URL('../bot-config/dist/paths.js', import.meta.url));

// adbkit's TCP-USB bridge needs node-forge, which the agent never uses: a stand-in takes its place.
const NO_FORGE = fileURLToPath(new URL('./build/no-node-forge.cjs', import.meta.url));

const FASTIFY_COMPILERS = new Set([
  '@fastify/ajv-compiler',
  '@fastify/fast-json-stringify-compiler',
]);

export default defineConfig({
  input: { main: fileURLToPath(new URL('./dist/main.js', import.meta.url)) },
  platform: 'node',
  // Fastify's schema compilers (Ajv, fast-json-stringify: ~280 KB of the Fastify chunk) are
  // required on first use, by the agent's http/lazy-compilers.ts, from node_modules, which the image
  // keeps; Fastify's own require of them, for a server given no compilers, never runs.
  external: (id) => id === BOT_CONFIG_PATHS || FASTIFY_COMPILERS.has(id),
  // A warning here (an import it could not resolve, a missing export) is a bundle that would
  // fail at run time: the build stops on it.
  onLog: (level, log, handler) => handler(level === 'warn' ? 'error' : level, log),
  plugins: [
    {
      name: 'no-node-forge',
      resolveId: (source) => (source === 'node-forge' ? NO_FORGE : null),
    },
  ],
  output: {
    dir: fileURLToPath(new URL('./bundle', import.meta.url)),
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    // Local names are shortened, functions and classes keep theirs, so a logged stack trace still
    // names its functions; the map files are not loaded unless NODE_OPTIONS=--enable-source-maps
    // (README, debugging).
    minify: {
      mangle: { keepNames: true },
      compress: { keepNames: { function: true, class: true } },
      codegen: { removeWhitespace: true },
    },
    comments: { legal: false, annotation: false, jsdoc: false },
    // ASCII only, other characters escaped: V8 keeps a script's source as one byte a character
    // only when every character fits in one; a single arrow in a message made the agent's
    // chunks two bytes a character (~0.7 MiB more heap).
    charset: 'ascii',
    sourcemap: true,
  },
});
