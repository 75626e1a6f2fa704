import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/*
 * Allowed import directions (lower layers never import higher ones):
 *
 *   bot-config/src/lib   shared primitives (backoff, timeouts, clock, queue): imports no project module
 *   bot-config           speaks Swarming; imports its lib, never the agent
 *   agent/src/<folder>   the folders in AGENT_LAYERS order: each imports only the folders before it
 *                        (config at the bottom imports no runtime module); nothing in a folder
 *                        imports the composition root (agent/src/*.ts)
 *   pure modules         every agent module imports no I/O, unless it is named in DOES_IO
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
const IO = {
  regex:
    '^(node:)?(fs|fs/promises|child_process|net|http|https|dgram)$|^@devicefarmer/adbkit|^@kubernetes/client-node|/adb/|/kube-(client|config|http|requests|token)\\.js$',
  message:
    'this module is pure: pass it the data and let the caller do the I/O (or, if it is an I/O module, name it in DOES_IO).',
};
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
/** No I/O, but a type-only import (a Kubernetes object's shape) is not I/O. */
const noIo = {
  '@typescript-eslint/no-restricted-imports': [
    'error',
    { patterns: [{ ...IO, allowTypeImports: true }] },
  ],
};

/** The folders of agent/src, lowest first; folders on one line do not import each other. */
const AGENT_LAYERS = [
  ['config'],
  ['operator', 'host'],
  ['devices'],
  ['power'],
  ['lifecycle'],
  ['battery'],
  ['cluster'],
  ['recovery'],
  ['swarming'],
  ['http'],
  ['cli', 'gate'],
];
/** The composition root and what only it uses, in agent/src itself. */
const ROOT_MODULES = [
  'agent',
  'main',
  'gate-main',
  'build-devices',
  'hook-listener',
  'logging',
  'metrics',
];

/** What a folder must not import: its own layer's peers, every layer above, the root. */
function above(folder) {
  const layer = AGENT_LAYERS.findIndex((names) => names.includes(folder));
  const higher = AGENT_LAYERS.slice(layer)
    .flat()
    .filter((name) => name !== folder);
  return {
    regex: `^(\\.\\./)+(${higher.join('|')})/|^(\\.\\./)+(${ROOT_MODULES.join('|')})\\.js$`,
    message: `${folder}/ may import ${AGENT_LAYERS.slice(0, layer).flat().join(', ') || 'no other folder'} only (layers in eslint.config.js): move the shared piece down.`,
  };
}

/**
 * The agent modules that do I/O. Every other module in agent/src is held to be pure, so a new
 * parser or rule is covered without editing this file; a new I/O module is named here.
 */
const DOES_IO = [
  'agent/src/*.ts',
  'agent/src/config/load.ts',
  'agent/src/operator/credential.ts',
  'agent/src/host/host-facts.ts',
  'agent/src/host/state-dir.ts',
  'agent/src/devices/adb/**',
  'agent/src/devices/adb-backend.ts',
  'agent/src/devices/slot-store.ts',
  'agent/src/power/commands.ts',
  'agent/src/lifecycle/external-activity.ts',
  'agent/src/cluster/kube-*.ts',
  'agent/src/cluster/cluster-link.ts',
  'agent/src/cluster/cluster-reporter.ts',
  'agent/src/cluster/event-queue.ts',
  'agent/src/cluster/lease-writer.ts',
  'agent/src/cluster/node-sync.ts',
  'agent/src/http/status-token.ts',
  'agent/src/gate/gate-kube.ts',
  'agent/src/recovery/recovery-actions.ts',
  'agent/src/recovery/usb-sysfs.ts',
];

/** Per folder: the layer rule everywhere, and no I/O outside tests and DOES_IO. */
const agentLayers = AGENT_LAYERS.flat().flatMap((folder) => [
  { files: [`agent/src/${folder}/**/*.ts`], rules: restrict(above(folder)) },
  {
    files: [`agent/src/${folder}/**/*.ts`],
    ignores: ['**/*.test.ts', ...DOES_IO],
    rules: { ...restrict(above(folder)), ...noIo },
  },
]);

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      'agent/bundle/**',
      '**/node_modules/**',
      'images/out/**',
      'coverage/**',
    ],
  },
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
  ...agentLayers,
);
