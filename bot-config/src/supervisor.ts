/**
 * Runs one Swarming bot (`python3 swarming_bot.zip start_bot`) for as long as
 * the agent lives: restarts it with capped, jittered backoff, reports crash
 * loops as a quarantine, turns the sudo shim's kill into an immediate restart,
 * restarts a bot that ended itself (exit 0, the server's `terminate`) after a
 * calm delay, and streams the bot's output into the structured log.
 *
 * Everything the bot starts belongs to its ProcessTree: whenever the bot
 * exits, stops or restarts, whatever is left of that tree is killed, so no
 * task of an old incarnation runs beside the new one.
 *
 * Never throws out of its background loop: a broken download, a missing
 * python or a dying child are logged, retried and counted, because the agent
 * runs unattended for months.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { lchown, mkdir } from 'node:fs/promises';
import { delimiter, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Metric, Registry } from 'prom-client';
import { Backoff, sleep } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { ownTree, type BotUser } from './bot-user.js';
import { CrashWindow } from './crash-window.js';
import { AuthWatch, type AuthRefusalStatus } from './auth-refusal.js';
import { BotOutput } from './bot-output.js';
import { LineSplitter } from './line-splitter.js';
import { ProcessTree, findOnPath, treeName } from './process-tree.js';
import { chooseStartZip } from './start-zip.js';

export interface BotSupervisorOptions {
  botId: string;
  /** The bot's base directory: it keeps its zip, state and self-updates (`swarming_bot.1.zip`) here. */
  workDir: string;
  /**
   * Path of the newest valid bot code on the host; called before every start. The bot starts
   * on it only when it is newer than the bot's own code in workDir (see start-zip.ts).
   */
  zip: () => Promise<string>;
  /** Default `python3`, looked up on the bot's PATH. */
  python?: string;
  /** Put first on the bot's PATH (holds the `sudo` shim). */
  shimDir: string;
  /** Extra environment, e.g. FARM_HOOK_URL, ANDROID_SERIAL. */
  env?: Record<string, string>;
  /** Run the bot as this user (the agent must be root); default: the agent's own user. */
  user?: BotUser;
  logger: Logger;
  registry: Registry;
  restartBackoff: BackoffOptions;
  crashes: { max: number; windowMs: number };
  /** Uptime after which backoff resets and a crash quarantine lifts. */
  stableAfterMs: number;
  /** Time between SIGTERM and SIGKILL (of the bot's whole process tree) on stop. */
  stopGraceMs: number;
  /** Wait before starting a bot again that ended itself with exit code 0 (`terminate`). */
  terminatedRestartMs: number;
  /**
   * Where the bot's cgroup is made: default the agent's own cgroup v2 (see
   * ProcessTree); null tracks the bot's processes through /proc alone.
   */
  cgroupParent?: string | null;
  onEvent?: (event: SupervisorEvent) => void;
  /** Longer output lines are cut (default 8192 characters). */
  maxLineChars?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

/** `terminated`: the bot exited 0 by itself (the server's `terminate`), a deliberate stop. */
export type RestartReason = 'crash' | 'reboot_requested' | 'terminated';

export interface BotExit {
  code: number | null;
  signal: string | null;
  at: number;
  /** Set when the process could not be started at all (e.g. python missing). */
  error?: string;
}

export type SupervisorEvent =
  | { type: 'started'; botId: string; pid: number; at: number }
  | { type: 'exited'; botId: string; pid?: number; exit: BotExit }
  | {
      type: 'restart_scheduled';
      botId: string;
      /** `zip_unavailable`: the bot code could not be fetched; the start is retried. */
      reason: RestartReason | 'zip_unavailable';
      delayMs: number;
    }
  | { type: 'quarantined'; botId: string; reason: string }
  | { type: 'unquarantined'; botId: string }
  /** The bot's output shows the server refusing its credentials (see auth-refusal.ts). */
  | { type: 'auth_refused'; botId: string; reason: string }
  | { type: 'auth_accepted'; botId: string };

export interface BotStatus {
  botId: string;
  running: boolean;
  pid?: number;
  startedAt?: number;
  /** Replacement processes started after an exit. */
  restarts: number;
  lastExit?: BotExit;
  quarantined?: string;
  /** Set while the server refuses the bot's requests for authentication. */
  authRefused?: AuthRefusalStatus;
  /** How the bot's processes are tracked: `cgroup <dir>` or `proc-marker`. */
  processTree: string;
}

/** One bot process, from spawn to exit. */
interface Incarnation {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  exited: Promise<BotExit>;
  /** Set by expectRestart: this incarnation's exit is a requested reboot, not a crash. */
  rebootReason?: string;
}

interface Metrics {
  restarts: Counter<'bot' | 'reason'>;
  up: Gauge<'bot'>;
  quarantined: Gauge<'bot'>;
}

export class BotSupervisor {
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly crashWindow: CrashWindow;
  private readonly metrics: Metrics;
  private readonly tree: ProcessTree;
  private readonly output = new BotOutput();
  private readonly now: () => number;
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private current: Incarnation | undefined;
  private restarts = 0;
  private lastExit: BotExit | undefined;
  private readonly auth: AuthWatch;

  constructor(private readonly options: BotSupervisorOptions) {
    this.log = options.logger.child({ bot: options.botId });
    this.backoff = new Backoff(options.restartBackoff);
    this.crashWindow = new CrashWindow({
      ...options.crashes,
      stableAfterMs: options.stableAfterMs,
    });
    this.metrics = supervisorMetrics(options.registry);
    this.now = options.now ?? Date.now;
    this.auth = new AuthWatch((refusal) => {
      this.log.error({ status: refusal.status, url: refusal.url }, refusal.reason);
      this.emit({ type: 'auth_refused', botId: options.botId, reason: refusal.reason });
    }, this.now);
    this.tree = new ProcessTree({
      name: treeName(options.botId, resolve(options.workDir)),
      cgroupParent: options.cgroupParent,
      logger: this.log,
    });
    // Export the series from the start so dashboards see a down bot, not a missing one.
    this.metrics.up.set({ bot: options.botId }, 0);
    this.metrics.quarantined.set({ bot: options.botId }, 0);
  }

  /** Starts supervising in the background; returns at once. A second call does nothing. */
  start(): void {
    if (this.stopping) throw new Error(`bot ${this.options.botId}: supervisor already stopped`);
    this.loop ??= this.run();
  }

  /**
   * The sudo shim reported a reboot request: the running bot is about to be
   * SIGKILLed by it. Its exit then restarts the bot at once and is not a crash.
   * `pid` is the shim's parent: when given and not the bot (a task ran sudo,
   * killing only its own parent), the request is ignored, so that a later real
   * crash of the bot is not mistaken for a reboot.
   */
  expectRestart(reason: string, pid?: number): void {
    const run = this.current;
    if (!run || (pid !== undefined && pid !== run.pid)) {
      this.log.warn(
        { reason, pid, botPid: run?.pid },
        'reboot requested by a process that is not the running bot; ignored',
      );
      return;
    }
    run.rebootReason = reason;
    this.log.info({ reason, pid: run.pid }, 'bot requested a reboot; restarting it when it dies');
  }

  /**
   * SIGTERM to the bot, then SIGKILL to its whole process tree after
   * stopGraceMs; whatever the bot left running when it exited is killed too.
   * Resolves once no process of the bot is left; never restarts it
   * afterwards. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** The bot got through to the server (its handshake or a poll): auth works. */
  serverAccepted(): void {
    if (!this.auth.clear()) return;
    this.log.info('Swarming accepts the bot again');
    this.emit({ type: 'auth_accepted', botId: this.options.botId });
  }

  /** Pids of every live process of the bot's tree: the bot, its tasks, their children. */
  processes(): Promise<number[]> {
    return this.tree.pids(this.current?.pid);
  }

  status(): BotStatus {
    const run = this.current;
    return {
      botId: this.options.botId,
      running: run !== undefined,
      pid: run?.pid,
      startedAt: run?.startedAt,
      restarts: this.restarts,
      lastExit: this.lastExit,
      quarantined: this.crashWindow.quarantined,
      authRefused: this.auth.status(),
      processTree: this.tree.mechanism,
    };
  }

  private async run(): Promise<void> {
    const { signal } = this.stopSignal;
    let pendingRestart: RestartReason | undefined;
    while (!signal.aborted) {
      const zipPath = await this.prepareZip(signal);
      if (zipPath !== undefined) await this.killLeftovers();
      // Checked after every wait before the spawn: a stop() meanwhile found no bot to stop.
      if (signal.aborted) break;
      let reason: RestartReason | 'zip_unavailable';
      let delayMs: number;
      if (zipPath === undefined) {
        reason = 'zip_unavailable';
        delayMs = this.backoff.next();
      } else {
        if (pendingRestart) {
          this.restarts += 1;
          this.metrics.restarts.inc({ bot: this.options.botId, reason: pendingRestart });
        }
        const exit = await this.runOnce(zipPath);
        if (signal.aborted) break;
        reason = exit.reason;
        delayMs = this.restartDelay(exit.reason);
        pendingRestart = exit.reason;
      }
      this.log.info({ reason, delayMs }, 'bot restart scheduled');
      this.emit({ type: 'restart_scheduled', botId: this.options.botId, reason, delayMs });
      try {
        await sleep(delayMs, signal);
      } catch {
        break;
      }
    }
  }

  private restartDelay(reason: RestartReason): number {
    if (reason === 'reboot_requested') return 0;
    // Deliberate: neither a failure to back off from nor a reason to hurry.
    if (reason === 'terminated') return this.options.terminatedRestartMs;
    return this.backoff.next();
  }

  /** The zip to start (see start-zip.ts); undefined (logged) when there is none. */
  private async prepareZip(signal: AbortSignal): Promise<string | undefined> {
    try {
      await mkdir(this.options.workDir, { recursive: true });
      // The bot writes its state and self-updates there.
      if (this.options.user) await ownTree(this.options.workDir, this.options.user);
      // zip() may hang on a stalled download: stop() must not wait for it.
      const seed = (): Promise<string> =>
        untilAborted(
          Promise.resolve().then(() => this.options.zip()),
          signal,
        );
      const chosen = await chooseStartZip(this.options.workDir, seed, (path, reason) =>
        this.log.warn(
          { path, reason },
          'bot code in the bot directory is not a whole zip; skipped',
        ),
      );
      // The bot copies its running code back over swarming_bot.zip in place (upstream's
      // last-known-good step, shutil.copy): a zip seeded by root must be the bot's to write.
      if (chosen.source === 'seeded' && this.options.user) {
        await lchown(chosen.path, this.options.user.uid, this.options.user.gid);
      }
      return chosen.path;
    } catch (err) {
      if (!signal.aborted) this.log.error({ err }, 'bot code unavailable; will retry');
      return undefined;
    }
  }

  /** What an earlier incarnation or a SIGKILLed agent left must not run beside the next bot. */
  private async killLeftovers(): Promise<void> {
    await this.tree.prepare();
    const leftovers = await this.tree.kill();
    if (leftovers > 0)
      this.log.warn({ killed: leftovers }, 'killed processes left by an earlier bot');
  }

  /** Spawns the bot and waits for it to exit; returns why it should be restarted. */
  private async runOnce(zipPath: string): Promise<{ reason: RestartReason }> {
    const python = this.options.python ?? 'python3';
    const startedAt = this.now();
    const { child, exited } = this.spawnBot(python, zipPath);
    const pid = child?.pid;
    let stableTimer: NodeJS.Timeout | undefined;
    let run: Incarnation | undefined;
    if (child && pid !== undefined) {
      // A new process starts with auth untried: an old refusal is history.
      this.auth.clear();
      run = { child, pid, startedAt, exited };
      this.current = run;
      this.metrics.up.set({ bot: this.options.botId }, 1);
      this.log.info({ pid, python, zip: zipPath, tree: this.tree.mechanism }, 'bot started');
      this.emit({ type: 'started', botId: this.options.botId, pid, at: startedAt });
      stableTimer = setTimeout(() => this.onStable(startedAt), this.options.stableAfterMs);
    }

    const exit = await exited;
    clearTimeout(stableTimer);
    this.current = undefined;
    this.lastExit = exit;
    this.metrics.up.set({ bot: this.options.botId }, 0);
    // Detached task processes (task_runner, run_isolated) outlive the bot unless killed here.
    await this.tree.kill(pid);

    const stopped = this.stopSignal.signal.aborted;
    const terminated = !stopped && run?.rebootReason === undefined && exit.code === 0;
    const expected = stopped || terminated || run?.rebootReason !== undefined;
    this.log[expected ? 'info' : 'warn'](
      {
        pid,
        code: exit.code,
        signal: exit.signal,
        error: exit.error,
        uptimeMs: exit.at - startedAt,
      },
      terminated ? 'bot ended itself (exit 0, e.g. terminated by the server)' : 'bot exited',
    );
    this.emit({ type: 'exited', botId: this.options.botId, pid, exit });
    if (run?.rebootReason !== undefined) return { reason: 'reboot_requested' };
    if (terminated) return { reason: 'terminated' };
    const reason = stopped ? undefined : this.crashWindow.crashed(exit.at, describeExit(exit));
    if (reason !== undefined) {
      this.metrics.quarantined.set({ bot: this.options.botId }, 1);
      this.log.error({ reason }, 'bot quarantined');
      this.emit({ type: 'quarantined', botId: this.options.botId, reason });
    }
    return { reason: 'crash' };
  }

  private spawnBot(
    python: string,
    zipPath: string,
  ): { child?: ChildProcess; exited: Promise<BotExit> } {
    const { botId, workDir, shimDir, user } = this.options;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...(user && { HOME: user.home, USER: user.name, LOGNAME: user.name }),
      // Without it python block-buffers a piped stdout: lines arrive late and die with a SIGKILL.
      PYTHONUNBUFFERED: '1',
      ...this.options.env,
      SWARMING_BOT_ID: botId,
      SWARMING_EXTERNAL_BOT_SETUP: '1',
      PATH: [shimDir, this.options.env?.PATH ?? process.env.PATH ?? ''].join(delimiter),
    };
    Object.assign(env, this.tree.markerEnv());
    // Looked up here: behind the wrapper a missing python would be an anonymous exit 127.
    const program = findOnPath(python, env.PATH);
    if (program === undefined) {
      // Worded as node's own spawn error, which it replaces.
      const error = `spawn ${python} ENOENT`;
      return { exited: Promise.resolve({ code: null, signal: null, at: this.now(), error }) };
    }
    // As another user, `env` looks python up again once the switch is done and root's
    // capabilities are gone: an entry only root can reach (a python under /root) is skipped
    // for the next one. env execs it, so the pid stays the bot's.
    const command = user
      ? this.tree.wrap(
          findOnPath('env', env.PATH) ?? '/usr/bin/env',
          [python, zipPath, 'start_bot'],
          user,
        )
      : this.tree.wrap(program, [zipPath, 'start_bot']);
    let child: ChildProcess;
    try {
      // Own process group too: a task it forks without detaching shares it.
      child = spawn(command.command, command.args, {
        cwd: workDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
        // Only without setpriv does spawn switch user (libuv also drops root's supplementary
        // groups); the bot then cannot join its cgroup and is tracked through /proc alone.
        ...(user && !command.switchesUser && { uid: user.uid, gid: user.gid }),
      });
    } catch (err) {
      const exit = { code: null, signal: null, at: this.now(), error: String(err) };
      return { exited: Promise.resolve(exit) };
    }
    const exited = new Promise<BotExit>((resolveExit) => {
      // 'exit', not 'close': a grandchild holding the pipes open must not delay the restart.
      child.once('exit', (code, signal) => resolveExit({ code, signal, at: this.now() }));
      child.on('error', (err) => {
        // Without a pid the spawn itself failed and no 'exit' will follow; later errors
        // (a failed kill) leave the process running.
        if (child.pid === undefined) {
          resolveExit({ code: null, signal: null, at: this.now(), error: err.message });
        } else {
          this.log.warn({ err }, 'bot process error');
        }
      });
    });
    this.pipeLines('stdout', child.stdout);
    this.pipeLines('stderr', child.stderr);
    return { child, exited };
  }

  private pipeLines(stream: 'stdout' | 'stderr', source: Readable | null): void {
    if (!source) return;
    const splitter = new LineSplitter(this.options.maxLineChars ?? 8192);
    const write = (lines: ReturnType<LineSplitter['push']>): void => {
      for (const { text, truncatedChars } of lines) {
        this.auth.line(text);
        if (text === '' && truncatedChars === 0) continue;
        const line = this.output.line(stream, text, this.now());
        if (line === undefined) continue;
        const { level, message, ...fields } = line;
        this.log[level](
          { stream, ...fields, ...(truncatedChars > 0 ? { truncatedChars } : {}) },
          message,
        );
      }
    };
    // The decoder keeps multi-byte characters split across chunks intact.
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => write(splitter.push(chunk)));
    source.on('end', () => write(splitter.end()));
    source.on('error', (err) => this.log.debug({ err, stream }, 'bot output stream error'));
  }

  private onStable(startedAt: number): void {
    this.backoff.reset();
    if (this.crashWindow.stayedUp(startedAt, this.now())) {
      this.metrics.quarantined.set({ bot: this.options.botId }, 0);
      this.log.info('bot stayed up; quarantine lifted');
      this.emit({ type: 'unquarantined', botId: this.options.botId });
    }
  }

  private async shutdown(): Promise<void> {
    this.stopSignal.abort(new Error('supervisor stopped'));
    const run = this.current;
    if (run) {
      this.log.info({ pid: run.pid, graceMs: this.options.stopGraceMs }, 'stopping bot');
      // SIGTERM to the bot alone: it is the one that knows how to end its task cleanly.
      run.child.kill('SIGTERM');
      if (!(await exitsWithin(run.exited, this.options.stopGraceMs))) {
        // The bot checks its quit flag only between tasks: a long task ends here.
        this.log.warn({ pid: run.pid }, 'bot still running after its grace; killing its tree');
        await this.tree.kill(run.pid);
        await run.exited;
      }
    }
    await this.loop;
    // Also covers a stop between two incarnations, and leftovers of a start cut short.
    await this.tree.kill();
    await this.tree.remove();
  }

  private emit(event: SupervisorEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (err) {
      this.log.error({ err, event: event.type }, 'supervisor event handler threw');
    }
  }
}

/** `exit code 1`, `signal SIGSEGV`, or the spawn error: the tail of a quarantine reason. */
export function describeExit(exit: BotExit): string {
  if (exit.error !== undefined) return exit.error;
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

function exitsWithin(exited: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolveWithin) => {
    const timer = setTimeout(() => resolveWithin(false), ms);
    void exited.then(() => {
      clearTimeout(timer);
      resolveWithin(true);
    });
  });
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolveValue, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolveValue, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Metrics are shared by every supervisor on the registry: the first one creates them. */
function supervisorMetrics(registry: Registry): Metrics {
  const shared = <T extends Metric>(name: string, create: () => T): T =>
    (registry.getSingleMetric(name) as T | undefined) ?? create();
  return {
    restarts: shared(
      'farm_bot_restarts_total',
      () =>
        new Counter({
          name: 'farm_bot_restarts_total',
          help: 'Swarming bot processes started again after an exit, by why it exited.',
          labelNames: ['bot', 'reason'],
          registers: [registry],
        }),
    ),
    up: shared(
      'farm_bot_up',
      () =>
        new Gauge({
          name: 'farm_bot_up',
          help: '1 while the Swarming bot process runs.',
          labelNames: ['bot'],
          registers: [registry],
        }),
    ),
    quarantined: shared(
      'farm_bot_quarantined',
      () =>
        new Gauge({
          name: 'farm_bot_quarantined',
          help: '1 while the bot is quarantined for crashing too often.',
          labelNames: ['bot'],
          registers: [registry],
        }),
    ),
  };
}
