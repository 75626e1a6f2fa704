/**
 * Stand-in Swarming bots: zips whose `__main__.py` misbehaves in one chosen
 * way, run by the real python3 under the real supervisor. They keep their
 * memory between incarnations in files in their cwd (the bot's workDir), and
 * announce what they do on stdout so tests can wait on the log.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from 'pino';
import type { SupervisorEvent } from '../../bot-config/src/supervisor-events.js';
import { makeZip } from './zip.js';

const PRELUDE = `
import os, shutil, signal, subprocess, sys, time

def say(*parts, stream=sys.stdout):
    print(*parts, file=stream, flush=True)

def wait_forever():
    while True:
        time.sleep(3600)
`;

async function writeBot(zipPath: string, body: string): Promise<string> {
  await makeZip(zipPath, { '__main__.py': `${PRELUDE}\n${body}` });
  return zipPath;
}

/**
 * Exits with `exitCode` on its first `crashes` runs, leaving an unterminated
 * stderr line behind each time; afterwards stays up and prints `up for good`.
 */
export function crashLoopBot(zipPath: string, crashes: number, exitCode = 3): Promise<string> {
  return writeBot(
    zipPath,
    `
n = int(open('crash-count').read()) if os.path.exists('crash-count') else 0
if n < ${crashes}:
    open('crash-count', 'w').write(str(n + 1))
    sys.stderr.write('dying without newline %d' % (n + 1))
    sys.exit(${exitCode})
say('up for good')
wait_forever()
`,
  );
}

export interface LongRunningBotOptions {
  /** Print `got SIGTERM` and carry on instead of exiting 0. */
  ignoreSigterm?: boolean;
  /** Start a grandchild sleeper and print `grandchild <pid>`. */
  grandchild?: boolean;
  /** Print one line of this many characters. */
  longLine?: number;
}

/** Prints `ready <pid> <SWARMING_BOT_ID> <SWARMING_EXTERNAL_BOT_SETUP>` and runs until signalled. */
export function longRunningBot(
  zipPath: string,
  options: LongRunningBotOptions = {},
): Promise<string> {
  return writeBot(
    zipPath,
    `
def on_term(signum, frame):
    say('got SIGTERM')
    if not ${options.ignoreSigterm ? 'True' : 'False'}:
        sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
if ${options.grandchild ? 'True' : 'False'}:
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)'])
    say('grandchild', sleeper.pid)
if ${options.longLine ?? 0}:
    say('x' * ${options.longLine ?? 0})
say('ready', os.getpid(), os.environ.get('SWARMING_BOT_ID'), os.environ.get('SWARMING_EXTERNAL_BOT_SETUP'))
wait_forever()
`,
  );
}

/**
 * Behaves like the bot's self-update: run as swarming_bot.zip it copies itself
 * to swarming_bot.1.zip and os.execv's python on that, keeping its pid.
 * Prints `incarnation 1 <pid>` before and `incarnation 2 <pid>` (on stderr) after.
 */
export function execingBot(zipPath: string): Promise<string> {
  return writeBot(
    zipPath,
    `
me = os.path.abspath(sys.argv[0])
if os.path.basename(me) == 'swarming_bot.zip':
    say('incarnation 1', os.getpid())
    updated = os.path.join(os.path.dirname(me), 'swarming_bot.1.zip')
    shutil.copyfile(me, updated)
    os.execv(sys.executable, [sys.executable, updated, 'start_bot'])
say('incarnation 2', os.getpid(), stream=sys.stderr)
wait_forever()
`,
  );
}

/**
 * Bot code version `version`: prints `version <version> <pid>`. The first run that finds
 * TEST_UPDATE_ZIP in its environment updates itself like the real bot (copies that zip to
 * `swarming_bot.1.zip` beside itself and execs it, same pid); the first run that does not
 * update crashes (exit 3), so that the supervisor restarts it; later runs stay up.
 */
export function versionedBot(zipPath: string, version: string): Promise<string> {
  return writeBot(
    zipPath,
    `
say('version', ${JSON.stringify(version)}, os.getpid())
update = os.environ.get('TEST_UPDATE_ZIP')
if update and not os.path.exists('updated'):
    open('updated', 'w').close()
    target = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), 'swarming_bot.1.zip')
    shutil.copyfile(update, target)
    os.execv(sys.executable, [sys.executable, target, 'start_bot'])
if not os.path.exists('crashed'):
    open('crashed', 'w').close()
    sys.exit(3)
wait_forever()
`,
  );
}

/** Prints `lines`, then `printed`, all to stderr (one stream keeps their order), and stays up. */
export function printingBot(zipPath: string, lines: string[]): Promise<string> {
  return writeBot(
    zipPath,
    `
for line in ${JSON.stringify(lines)}:
    say(line, stream=sys.stderr)
say('printed', stream=sys.stderr)
wait_forever()
`,
  );
}

/**
 * Like the real bot's host_reboot: on its first run only, runs each argv via
 * subprocess (expected to start with `sudo`), then prints `survived sudo`.
 * Later runs print `back after reboot`.
 */
export function rebootingBot(zipPath: string, commands: string[][]): Promise<string> {
  return writeBot(
    zipPath,
    `
if not os.path.exists('reboot-requested'):
    open('reboot-requested', 'w').close()
    for argv in ${JSON.stringify(commands)}:
        say('running', ' '.join(argv))
        subprocess.call(argv)
    say('survived sudo')
else:
    say('back after reboot')
wait_forever()
`,
  );
}

export interface LogRecord {
  level: number;
  msg: string;
  bot?: string;
  stream?: string;
  [key: string]: unknown;
}

/** A real pino logger whose records land in `records`, parsed. */
export function captureLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') records.push(JSON.parse(line) as LogRecord);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records };
}

/** The first line the bot printed (on either stream) that starts with `prefix`. */
export function botLine(records: LogRecord[], prefix: string): LogRecord | undefined {
  return records.find((r) => r.stream !== undefined && r.msg.startsWith(prefix));
}

export function eventsOfType<T extends SupervisorEvent['type']>(
  events: SupervisorEvent[],
  type: T,
): Extract<SupervisorEvent, { type: T }>[] {
  return events.filter((e): e is Extract<SupervisorEvent, { type: T }> => e.type === type);
}

/** Polls `check` until it returns a value other than undefined/false; fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * True while a process with this pid runs. A killed process stays a zombie
 * until some reaper collects it (in containers that can take a second), so a
 * zombie counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    // The state follows the parenthesised command name, which may itself contain spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
