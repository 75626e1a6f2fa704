/**
 * The `farm-agent` command line: which commands exist, what each accepts, and the usage text,
 * from one table. Parsing is strict because the commands act on phones: a misspelt
 * `--clear` must never fall through to "set maintenance with a default reason".
 */
import { parseArgs } from 'node:util';

interface CommandSpec {
  /** How the arguments read in the usage text. */
  synopsis: string;
  summary: string;
  /** The `[slot]` argument, where the command takes one. */
  slot?: true;
  options?: Partial<Record<'json' | 'markdown' | 'reason' | 'clear', 'boolean' | 'string'>>;
}

const COMMANDS = {
  run: { synopsis: '', summary: 'run the agent (the default)' },
  gate: { synopsis: '', summary: 'run the farm gate: one page and one /wake for the whole farm' },
  status: { synopsis: '', summary: "print the running agent's /status" },
  devices: {
    synopsis: '[--json]',
    summary: 'the phone slots: bot, serial, state, battery, temperature',
    options: { json: 'boolean' },
  },
  dims: {
    synopsis: '[slot|bot]',
    summary: 'exactly what Swarming receives for each bot (dimensions and state)',
    slot: true,
  },
  maintenance: {
    synopsis: '[slot] (--reason TEXT | --clear)',
    summary: 'put one slot (or every slot) in maintenance, or take it out',
    slot: true,
    options: { reason: 'string', clear: 'boolean' },
  },
  quarantine: {
    synopsis: '[slot] (--reason TEXT | --clear)',
    summary: 'quarantine one slot (or every slot) in Swarming, or lift it',
    slot: true,
    options: { reason: 'string', clear: 'boolean' },
  },
  wake: {
    synopsis: '[slot]',
    summary: 'wake one phone (or all) now and reset the idle counter',
    slot: true,
  },
  sleep: { synopsis: '[slot]', summary: 'put one idle phone (or all) to sleep now', slot: true },
  config: {
    synopsis: '[--markdown]',
    summary: 'print the effective configuration (or the README table of settings)',
    options: { markdown: 'boolean' },
  },
  help: { synopsis: '', summary: 'this text' },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export interface CommandLine {
  command: CommandName;
  slot?: string;
  json: boolean;
  markdown: boolean;
  reason?: string;
  clear: boolean;
}

function usageLine(name: string, spec: CommandSpec): string {
  const head = `  ${name} ${spec.synopsis}`.trimEnd();
  return head.length < 22
    ? `${head.padEnd(22)}${spec.summary}`
    : `${head}\n${' '.repeat(22)}${spec.summary}`;
}

export const USAGE = [
  'usage: farm-agent [command]',
  '',
  'commands:',
  ...Object.entries(COMMANDS).map(([name, spec]) => usageLine(name, spec)),
  '',
  'Settings come from FARM_* environment variables; see the README.',
].join('\n');

/** A command line the CLI does not understand; the caller prints it with the usage, exit 2. */
export class UsageError extends Error {}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** Parses `argv` (without node and the script); throws UsageError on anything it does not know. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  if (argv.includes('--help') || argv.includes('-h')) {
    return { command: 'help', json: false, markdown: false, clear: false };
  }
  const name = argv[0] ?? 'run';
  if (!isCommand(name)) throw new UsageError(`unknown command "${name}"`);
  const spec: CommandSpec = COMMANDS[name];
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(spec.options ?? {}).map(([option, type]) => [option, { type }]),
      ),
    });
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
  const { values, positionals } = parsed;
  const allowed = spec.slot ? 1 : 0;
  if (positionals.length > allowed) {
    throw new UsageError(`${name}: unexpected argument "${positionals[allowed]}"`);
  }
  if (values.clear === true && values.reason !== undefined) {
    throw new UsageError(`${name}: give either --reason or --clear, not both`);
  }
  return {
    command: name,
    ...(positionals[0] === undefined ? {} : { slot: positionals[0] }),
    json: values.json === true,
    markdown: values.markdown === true,
    ...(typeof values.reason === 'string' ? { reason: values.reason } : {}),
    clear: values.clear === true,
  };
}
