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
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AuthWatch } from './auth-refusal.js';
import { sleep } from './lib/backoff.js';
import { ExitReport } from './exit-report.js';
import { classifyExit, type BotExit, type RestartReason } from './bot-exit.js';
import { launchBot, stopBot } from './bot-process.js';
import { BotLog } from './bot-log.js';
import type { BotUser } from './bot-user.js';
import { prepareBotZip } from './bot-workdir.js';
import { ProcessTree, treeName } from './process-tree.js';
import { RestartPolicy, type RestartPolicyOptions } from './restart-policy.js';
import type { BotStatus, SupervisorEvent } from './supervisor-events.js';
import { SupervisorMetrics } from './supervisor-metrics.js';

/** Restart timing and crash limits: see RestartPolicyOptions. */
export interface BotSupervisorOptions extends RestartPolicyOptions {
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
  /** Time between SIGTERM and SIGKILL (of the bot's whole process tree) on stop. */
  stopGraceMs: number;
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

/** One bot process, from spawn to exit. */
interface Incarnation {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  exited: Promise<BotExit>;
  /** Set by expectRestart: this incarnation's exit is a requested reboot, not a crash. */
  rebootReason?: string;
}

export class BotSupervisor {
  private readonly log: Logger;
  private readonly policy: RestartPolicy;
  private readonly metrics: SupervisorMetrics;
  private readonly report: ExitReport;
  private readonly tree: ProcessTree;
  private readonly output: BotLog;
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
    this.policy = new RestartPolicy(options);
    this.metrics = new SupervisorMetrics(options.registry, options.botId);
    this.now = options.now ?? Date.now;
    this.report = new ExitReport({
      botId: options.botId,
      policy: this.policy,
      metrics: this.metrics,
      log: this.log,
      emit: (event) => this.emit(event),
    });
    this.auth = new AuthWatch((refusal) => {
      this.log.error({ status: refusal.status, url: refusal.url }, refusal.reason);
      this.emit({ type: 'auth_refused', botId: options.botId, reason: refusal.reason });
    }, this.now);
    this.output = new BotLog({
      logger: this.log,
      auth: this.auth,
      now: this.now,
      maxLineChars: options.maxLineChars,
    });
    this.tree = new ProcessTree({
      name: treeName(options.botId, resolve(options.workDir)),
      cgroupParent: options.cgroupParent,
      logger: this.log,
    });
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
      quarantined: this.policy.quarantined,
      authRefused: this.auth.status(),
      processTree: this.tree.mechanism,
    };
  }

  private async run(): Promise<void> {
    const { signal } = this.stopSignal;
    let pendingRestart: RestartReason | undefined;
    while (!signal.aborted) {
      const zipPath = await prepareBotZip({ ...this.options, logger: this.log }, signal);
      if (zipPath !== undefined) await this.killLeftovers();
      // Checked after every wait before the spawn: a stop() meanwhile found no bot to stop.
      if (signal.aborted) break;
      let reason: RestartReason | 'zip_unavailable';
      let delayMs: number;
      if (zipPath === undefined) {
        reason = 'zip_unavailable';
        delayMs = this.policy.delay(reason);
      } else {
        if (pendingRestart) {
          this.restarts += 1;
          this.metrics.restarted(pendingRestart);
        }
        const exit = await this.runOnce(zipPath);
        if (signal.aborted) break;
        reason = exit.reason;
        delayMs = this.policy.delay(exit.reason);
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
    const { child, exited } = launchBot({
      ...this.options,
      zipPath,
      python,
      tree: this.tree,
      logger: this.log,
      now: this.now,
    });
    this.output.pipe('stdout', child?.stdout);
    this.output.pipe('stderr', child?.stderr);
    const pid = child?.pid;
    let stableTimer: NodeJS.Timeout | undefined;
    let run: Incarnation | undefined;
    if (child && pid !== undefined) {
      // A new process starts with auth untried: an old refusal is history.
      this.auth.clear();
      run = { child, pid, startedAt, exited };
      this.current = run;
      this.metrics.setUp(true);
      this.log.info({ pid, python, zip: zipPath, tree: this.tree.mechanism }, 'bot started');
      this.emit({ type: 'started', botId: this.options.botId, pid, at: startedAt });
      stableTimer = setTimeout(
        () => this.report.stayedUp(startedAt, this.now()),
        this.options.stableAfterMs,
      );
    }

    const exit = await exited;
    clearTimeout(stableTimer);
    this.current = undefined;
    this.lastExit = exit;
    this.metrics.setUp(false);
    // Detached task processes (task_runner, run_isolated) outlive the bot unless killed here.
    await this.tree.kill(pid);

    const kind = classifyExit(exit, {
      stopped: this.stopSignal.signal.aborted,
      rebootRequested: run?.rebootReason !== undefined,
    });
    this.report.exited(exit, kind, pid, startedAt);
    if (kind === 'reboot_requested' || kind === 'terminated') return { reason: kind };
    return { reason: 'crash' };
  }

  private async shutdown(): Promise<void> {
    this.stopSignal.abort(new Error('supervisor stopped'));
    const run = this.current;
    if (run) await stopBot(run, this.tree, this.options.stopGraceMs, this.log);
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
