/**
 * The agent as it runs: `tsc -b` output (agent/dist, bot-config/dist) and its runtime dependencies
 * bundled into agent/bundle, which agent/bin/farm-agent.js loads. Loading ~430 CommonJS files and
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

// adbkit's Client loads its TCP-USB bridge, which loads node-forge for the RSA sums of an adb
// daemon's auth. The agent talks to an adb server and never opens a bridge, and running
// node-forge's module bodies cost ~1.3 MiB of heap; what adbkit reads at load time is given,
// anything else throws, naming why.
const NO_FORGE_ID = '\0farm-agent:no-node-forge';
const NO_FORGE = `
const unavailable = (what) => () => {
  throw new Error(\`\${what}: node-forge is not in farm-agent's bundle (adbkit's TCP-USB bridge and adb key parsing are not used)\`);
};
const refuse = (what) => new Proxy({}, { get: (_, key) => unavailable(what + '.' + String(key))() });
module.exports = {
  jsbn: { BigInteger: unavailable('node-forge.jsbn.BigInteger') },
  pki: refuse('node-forge.pki'),
  md: refuse('node-forge.md'),
};
`;

export default defineConfig({
  input: { main: fileURLToPath(new URL('./dist/main.js', import.meta.url)) },
  platform: 'node',
  // Fastify's schema compilers are required on first use (bot-config's lazy-compilers.ts), from
  // node_modules at run time, which the image keeps.
  external: (id) => id === BOT_CONFIG_PATHS,
  // A warning here (an import it could not resolve, a missing export) is a bundle that would
  // fail at run time: the build stops on it.
  onLog: (level, log, handler) => handler(level === 'warn' ? 'error' : level, log),
  plugins: [
    {
      name: 'no-node-forge',
      resolveId: (source) => (source === 'node-forge' ? NO_FORGE_ID : null),
      load: (id) => (id === NO_FORGE_ID ? NO_FORGE : null),
    },
  ],
  output: {
    dir: fileURLToPath(new URL('./bundle', import.meta.url)),
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    // Names are kept (no mangling) so a logged stack trace still names its functions; the map
    // files are not loaded unless NODE_OPTIONS=--enable-source-maps (README, debugging).
    minify: { mangle: false, compress: true, codegen: { removeWhitespace: true } },
    comments: { legal: false, annotation: false, jsdoc: false },
    sourcemap: true,
    cleanDir: true,
  },
});
