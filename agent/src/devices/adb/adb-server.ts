/**
 * The adb server as a supervised child: `adb [-a] -P <port> server nodaemon`, restarted
 * when it dies. adbkit never supervises a server (DESIGN §4), and a daemonised one
 * (`adb start-server`) is not ours to watch or kill, so `nodaemon` keeps it our child.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import type { Readable } from 'node:stream';
import { dieWithParent, findOnPath } from '@farm-agent/bot-config';
import { Backoff, LineSplitter, sleep } from '@farm-agent/bot-config/lib';
import type { BackoffOptions } from '@farm-agent/bot-config/lib';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { createAdbClient, serverVersion } from './adbkit.js';

/** Where the supervised adb server listens: anyone who reaches it gets a shell on every phone. */
export type AdbListen = 'loopback' | 'all';

/** The server's command line: `-a` (every address) only when asked for; adb's default is localhost. */
export function adbServerArgs(port: number, listen: AdbListen): string[] {
  return [...(listen === 'all' ? ['-a'] : []), '-P', String(port), 'server', 'nodaemon'];
}

export interface AdbServerProcessOptions {
  port: number;
  /** Default `loopback`. */
  listen?: AdbListen;
  logger: Logger;
  registry: Registry;
  /** The adb binary; default `adb` from PATH. */
  bin?: string;
  /**
   * Use a server someone else runs (a developer's, or a sidecar's) and spawn nothing:
   * start() and stop() do nothing then.
   */
  external?: boolean;
  /** Environment for the server (HOME holds its RSA key in ~/.android). Default: ours. */
  env?: NodeJS.ProcessEnv;
  /**
   * Delay before a restart, growing while the server keeps dying. Default 250 ms .. 5 s:
   * every slot is out of service while adb is down, so a long wait costs far more than
   * a futile restart of a crash-looping server (a few per minute at the cap).
   */
  restartBackoff?: BackoffOptions;
  /**
   * A server that stayed up this long counts as healthy: the next restart is quick again,
   * however many came before. Default 10 s.
   */
  stableAfterMs?: number;
  /** stop(): SIGTERM, then SIGKILL after this long. Default 3 s. */
  stopGraceMs?: number;
  /** Called each time a newly started server answers `host:version`. */
  onReady?: () => void;
}

/** How a server run ended, for the log and the metric. */
interface Ending {
  reason: 'exit' | 'spawn_error';
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
  upMs: number;
}

const STDERR_LINES_KEPT = 20;
const MAX_LINE_CHARS = 4096;
const READY_POLL_MS = 50;

/** adb's log lines read `adb I 11-23 18:44:10 pid tid file:line] text`; the letter is the level. */
export function adbLogLevel(line: string): 'debug' | 'info' | 'warn' | 'error' {
  const letter = /^adb ([VDIWEF]) /.exec(line)?.[1];
  switch (letter) {
    case 'V':
    case 'D':
      return 'debug';
    case 'W':
      return 'warn';
    case 'E':
    case 'F':
      return 'error';
    default:
      return 'info';
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

function restartsCounter(registry: Registry): Counter<'reason'> {
  const name = 'farm_adb_server_restarts_total';
  return (
    (registry.getSingleMetric(name) as Counter<'reason'> | undefined) ??
    new Counter({
      name,
      help: 'adb server processes started again after the previous one ended, by how it ended.',
      labelNames: ['reason'],
      registers: [registry],
    })
  );
}

export class AdbServerProcess {
  private readonly log: Logger;
  private readonly restarts: Counter<'reason'>;
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  private child: ChildProcess | undefined;
  private running: Promise<void> | undefined;
  /** The current server's last stderr lines: why it died is usually in them. */
  private stderrTail: string[] = [];

  constructor(private readonly options: AdbServerProcessOptions) {
    this.log = options.logger.child({ component: 'adb-server', port: options.port });
    this.restarts = restartsCounter(options.registry);
    this.backoff = new Backoff(options.restartBackoff ?? { initialMs: 250, maxMs: 5000 });
  }

  /** The running server's pid, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.options.external) {
      this.log.info('using an external adb server; not spawning one');
      return;
    }
    this.running ??= this.supervise();
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the server has exited. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('stopped'));
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const grace = setTimeout(() => child.kill('SIGKILL'), this.options.stopGraceMs ?? 3000);
      await this.running;
      clearTimeout(grace);
    }
    await this.running;
  }

  private async supervise(): Promise<void> {
    const signal = this.abort.signal;
    if (findOnPath('setpriv') === undefined) {
      this.log.warn(
        'setpriv (util-linux) not found: an agent that is killed leaves its adb server running',
      );
    }
    while (!signal.aborted) {
      await this.removeStrayServer();
      if (signal.aborted) return;
      const ending = await this.runOnce();
      if (signal.aborted) return;
      if (ending.upMs >= (this.options.stableAfterMs ?? 10_000)) this.backoff.reset();
      const delayMs = this.backoff.next();
      this.restarts.inc({ reason: ending.reason });
      this.log.warn(
        { ...ending, lastStderr: this.lastStderr, restartInMs: delayMs },
        ending.reason === 'spawn_error'
          ? `could not start the adb server: ${ending.error ?? 'unknown error'}`
          : `adb server ended (code ${String(ending.code)}, signal ${String(ending.signal)})`,
      );
      await sleep(delayMs, signal).catch(() => undefined);
    }
  }

  /**
   * A listener already on our port is almost always an adb daemon nobody supervises: one
   * a person started with `adb devices` in the pod (the CLI forks a daemon when none
   * answers), or the orphaned child of an agent that was SIGKILLed. Our `server nodaemon`
   * would fail with "Address already in use" forever, so we stop it with `kill-server`,
   * the adb protocol's own shutdown, which works whichever adb version runs it. Adopting
   * it instead would leave the farm on a server no one restarts.
   */
  private async removeStrayServer(): Promise<void> {
    const { port } = this.options;
    if (!(await listening(port))) return;
    this.log.warn(
      `port ${port} is already taken, most likely by a stray adb daemon; stopping it with \`adb -P ${port} kill-server\``,
    );
    const output = await new Promise<string>((resolve) => {
      execFile(
        this.bin,
        ['-P', String(port), 'kill-server'],
        { env: this.options.env, timeout: 5000 },
        (error, stdout, stderr) =>
          resolve(`${stdout}${stderr}${error ? ` (${error.message})` : ''}`.trim()),
      );
    });
    for (let waited = 0; waited < 2000 && (await listening(port)); waited += READY_POLL_MS) {
      await sleep(READY_POLL_MS);
    }
    this.log.warn(
      { output },
      `after kill-server port ${port} is ${(await listening(port)) ? 'still taken' : 'free'}`,
    );
  }

  private get bin(): string {
    return this.options.bin ?? 'adb';
  }

  private get lastStderr(): string[] {
    return [...this.stderrTail];
  }

  private runOnce(): Promise<Ending> {
    const started = Date.now();
    this.stderrTail = [];
    const args = adbServerArgs(this.options.port, this.options.listen ?? 'loopback');
    // A SIGKILLed agent must not leave its server behind holding the port and the phones.
    const bound = dieWithParent(this.bin, args);
    const child = spawn(bound.command, bound.args, {
      env: this.options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.pipeLines(child.stdout, 'stdout');
    this.pipeLines(child.stderr, 'stderr');
    return new Promise<Ending>((resolve) => {
      let ended = false;
      const end = (ending: Omit<Ending, 'upMs'>): void => {
        if (ended) return;
        ended = true;
        this.child = undefined;
        resolve({ ...ending, upMs: Date.now() - started });
      };
      // A spawn failure (ENOENT, EACCES) emits `error` (then `close` with a negative errno);
      // an `error` from a running child (a failed kill) ends nothing.
      child.on('error', (error) => {
        if (child.pid === undefined) {
          end({ reason: 'spawn_error', code: null, signal: null, error: error.message });
        }
      });
      // `close`, not `exit`: by then stderr is drained, so the tail in the log is complete.
      child.once('close', (code, signal) => end({ reason: 'exit', code, signal }));
      child.once('spawn', () => {
        this.log.info({ pid: child.pid, args }, 'adb server started');
        void this.announceReady(child);
      });
    });
  }

  /** Polls `host:version` until this child answers (or is gone), then calls onReady once. */
  private async announceReady(child: ChildProcess): Promise<void> {
    const client = createAdbClient({ port: this.options.port, socketTimeoutMs: 1000 });
    while (this.child === child) {
      const version = await serverVersion(client).catch(() => undefined);
      if (this.child !== child) return;
      if (version !== undefined) {
        this.log.info({ pid: child.pid, version }, 'adb server answers');
        this.options.onReady?.();
        return;
      }
      await sleep(READY_POLL_MS);
    }
  }

  private pipeLines(source: Readable | null, stream: 'stdout' | 'stderr'): void {
    if (!source) return;
    const splitter = new LineSplitter(MAX_LINE_CHARS);
    source.setEncoding('utf8');
    const write = (lines: ReturnType<LineSplitter['push']>): void => {
      for (const { text } of lines) {
        if (text === '') continue;
        if (stream === 'stderr') {
          this.stderrTail.push(text);
          if (this.stderrTail.length > STDERR_LINES_KEPT) this.stderrTail.shift();
        }
        this.log[adbLogLevel(text)]({ stream }, text);
      }
    };
    source.on('data', (chunk: string) => write(splitter.push(chunk)));
    source.on('end', () => write(splitter.end()));
  }
}
