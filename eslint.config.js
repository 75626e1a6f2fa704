import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/*
 * Allowed import directions (lower layers never import higher ones):
 *
 *   bot-config/src/lib   shared primitives (backoff, timeouts, clock, queue): imports no project module
 *   bot-config           speaks Swarming; imports its lib, never the agent
 *   agent/src/config     the settings table and their start-up checks: no runtime module
 *   parsers and rules    pure functions of their input (devices/parse, health, labels…): no I/O
 *   agent runtime        devices, lifecycle, cluster, swarming, http… may import all of the above
 *
 * Enforced below with no-restricted-imports, one `files` block per layer. A file matched by
 * two blocks gets only the later block's list, so each block repeats what it inherits.
 */
const OF_AGENT = {
  regex: '(^|/)agent/|^farm-agent(/|$)',
  message: 'bot-config knows nothing of the agent: move the shared piece into bot-config.',
};
const OUTSIDE_LIB = {
  regex: '^\\.\\./|^@farm-agent/',
  message: 'bot-config/src/lib is the bottom layer: it imports no other project module.',
};
const RUNTIME = {
  regex:
    '^(\\.\\./)+(devices|lifecycle|cluster|swarming|http|host|operator|cli)/|^\\.\\./(agent|main)\\.js$',
  message: 'config is below the runtime: move the constant or rule into config/ instead.',
};
const IO = {
  regex:
    '^(node:)?(fs|fs/promises|child_process|net|http|https|dgram)$|^@kubernetes/client-node|/adb/|/kube-(client|requests)\\.js$',
  message: 'parsers and rules are pure: pass them the data, let the caller do the I/O.',
};
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

/** Modules that decide from data alone; their tests may read fixtures. */
const PURE_RULES = [
  'agent/src/devices/parse/**/*.ts',
  'agent/src/devices/health.ts',
  'agent/src/devices/slot.ts',
  'agent/src/devices/slot-ref.ts',
  'agent/src/devices/slot-state.ts',
  'agent/src/devices/slot-status.ts',
  'agent/src/devices/swarming-dimensions.ts',
  'agent/src/lifecycle/idle-counter.ts',
  'agent/src/lifecycle/proc-net-tcp.ts',
  'agent/src/host/host-readings.ts',
  'agent/src/cluster/cluster-model.ts',
  'agent/src/cluster/event-dedupe.ts',
  'agent/src/cluster/lease-annotations.ts',
  'agent/src/cluster/node-labels.ts',
  'agent/src/cluster/override-annotations.ts',
  'agent/src/cluster/slot-transitions.ts',
  'agent/src/operator/overrides.ts',
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'images/out/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-console': ['error', { allow: ['error'] }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The CLI and benchmarks talk to people on stdout.
    files: ['agent/src/main.ts', 'agent/src/cli/**', 'bench/**', 'test/**', 'images/**'],
    rules: { 'no-console': 'off' },
  },
  { files: ['bot-config/**/*.ts'], rules: restrict(OF_AGENT) },
  { files: ['bot-config/src/lib/**/*.ts'], rules: restrict(OF_AGENT, OUTSIDE_LIB) },
  { files: ['agent/src/config/**/*.ts'], rules: restrict(RUNTIME) },
  {
    // Everything in config but the env-file reader is pure as well.
    files: ['agent/src/config/**/*.ts'],
    ignores: ['**/*.test.ts', 'agent/src/config/load.ts'],
    rules: restrict(RUNTIME, IO),
  },
  { files: PURE_RULES, ignores: ['**/*.test.ts'], rules: restrict(IO) },
);
