import type { Logger } from 'pino';
import type { BotDevices, Dimensions } from './bot-devices.js';
import { BotAnswers, type BotAnswersOptions, type HookExchange } from './hook-answers.js';
import { schemaCheck, type Check } from './hook-checks.js';
import { refuseStrangers, type AuthorizeCaller } from './hook-guards.js';
import { HookServer, type HookCall, type HookRoute } from './hook-http.js';
import type { HookMetrics } from './hook-metrics.js';
import {
  bodySchemas,
  botHeaders,
  type AfterTaskBody,
  type BeforeTaskBody,
  type Hook,
  type RebootBody,
} from './hook-schemas.js';
import { TaskLedger } from './task-ledger.js';

export { BOT_ID_HEADER, type Hook } from './hook-schemas.js';
export type { HookExchange } from './hook-answers.js';
export { HookServer } from './hook-http.js';
export { HookMetrics } from './hook-metrics.js';

/**
 * Bot state with environment and disks is a few kB; this leaves room without
 * inviting abuse (the last bodies of each bot are kept for /status).
 */
const DEFAULT_BODY_LIMIT = 256 * 1024;

/** botQuarantine, pool: see BotAnswersOptions. */
export interface HookServerOptions extends Pick<BotAnswersOptions, 'botQuarantine' | 'pool'> {
  devices: BotDevices;
  /** Answered by /get_settings; the bot deep-merges it into its defaults. */
  settings: () => Record<string, unknown>;
  /** Upper bound for one /on_before_task wait, whatever the shim asks for. */
  readyWaitMaxMs: number;
  /** The bot ran `sudo reboot` (or similar); argv is what it asked sudo to run. */
  /** `ppid` is the process the sudo shim is about to kill: the bot, unless a task ran sudo. */
  onRebootRequested: (botId: string, argv: string[], ppid: number | undefined) => void;
  /**
   * Every get_state/get_dimensions answer, with the bot's own values it was
   * built from: what Swarming last received, for /status and `farm-agent dims`.
   */
  onAnswered?: (exchange: HookExchange) => void;
  /**
   * The bot got through to the Swarming server: its handshake succeeded (`on_handshake`) or
   * a poll answered a command (`on_after_poll`). Proof that its credentials are accepted.
   */
  onServerAccepted?: (botId: string) => void;
  /**
   * Checked before every hook that names a bot this node runs (not
   * get_settings/healthz): undefined lets the call through, a string refuses
   * it with 403. Unset, any local process may speak for any bot.
   */
  authorizeCaller?: AuthorizeCaller<Hook>;
  logger: Logger;
  /** Counts the calls; its series may be registered after the server answers (hook-metrics.ts). */
  metrics: HookMetrics;
  bodyLimit?: number;
}

/**
 * The loopback HTTP server the bot's `bot_config.py` shim forwards its hooks
 * to. Returned configured but not listening: the caller binds it to
 * 127.0.0.1 so nothing off the node can impersonate a bot.
 */
export function createHookServer(opts: HookServerOptions): HookServer {
  const log = opts.logger;
  const knows = (botId: string): boolean => opts.devices.knows(botId);
  const answers = new BotAnswers(opts);
  const tasks = new TaskLedger();

  /**
   * A task hook whose answer is known before its work: the answer is written, then `work` runs
   * at once, in the same turn, so nothing else runs between them. A failure then comes too late
   * for the bot to hear of it, and is logged as `failure`.
   */
  async function answerFirst(
    call: HookCall<unknown>,
    answer: object,
    failure: string,
    work: () => Promise<unknown>,
  ): Promise<object> {
    call.answerNow(answer);
    await work().catch((err: unknown) => log.error({ botId: call.botId, err }, failure));
    return answer;
  }

  /**
   * A bot hook: POST with a JSON body checked against `body`. Where an empty
   * body means something, GET is accepted too (as Skia's shim used it) and
   * stands for `{}`.
   */
  function hook<Body>(
    name: Exclude<Hook, 'get_settings' | 'healthz'>,
    acceptsGet: boolean,
    answer: (call: HookCall<Body>) => Promise<object> | object,
  ): HookRoute {
    const body: Check = schemaCheck(bodySchemas[name], 'body');
    const methods = acceptsGet ? (['POST', 'GET'] as const) : (['POST'] as const);
    return { hook: name, methods, namesBot: true, body, answer: answer as HookRoute['answer'] };
  }

  const getState = hook<Record<string, unknown>>('get_state', true, (call) =>
    answers.state(call.botId, call.body),
  );

  const getDimensions = hook<Dimensions>('get_dimensions', true, (call) =>
    answers.dimensions(call.botId, call.body),
  );

  const onBeforeTask = hook<BeforeTaskBody>('on_before_task', true, async (call) => {
    const { botId } = call;
    const { task_id: taskId, call_id: callId, wait_ms: waitMs } = call.body;
    const starting = tasks.claimStart(botId, taskId ?? callId);
    const start = async (): Promise<void> => {
      try {
        await opts.devices.taskStarted(botId, taskId === undefined ? {} : { taskId });
      } catch (err) {
        tasks.releaseStart(botId);
        throw err;
      }
    };
    if (starting && opts.devices.readyNow(botId)) {
      // A start cannot change a phone ready now from ready, so the answer goes out first and
      // the same steps follow at once, in this turn: the start, then the wait's own steps
      // (the device side's hold for the task) with nothing to wait for. The start took 20-30
      // µs of each answer (BENCHMARKS.md, 31).
      return answerFirst(call, { ready: true }, 'task start failed after ready', () =>
        start().then(() => opts.devices.whenReady(botId, 0)),
      );
    }
    if (starting) await start();
    const timeoutMs = Math.min(waitMs ?? opts.readyWaitMaxMs, opts.readyWaitMaxMs);
    const ready = await untilClosed(call, (signal) =>
      opts.devices.whenReady(botId, timeoutMs, signal),
    );
    return { ready };
  });

  const onAfterTask = hook<AfterTaskBody>('on_after_task', true, async (call) => {
    const { botId, body } = call;
    if (!tasks.claimEnd(botId, body.task_id)) return { ok: true, duplicate: true };
    const end = (): Promise<void> =>
      opts.devices.taskEnded(botId, {
        failure: body.failure ?? false,
        internalFailure: body.internal_failure ?? false,
      });
    if (opts.devices.endsAtOnce(botId)) {
      // The answer only says the end was heard, and an end with nothing to switch or wait for
      // is over within this turn, before the bot's next call can arrive: it goes out first.
      return answerFirst(call, { ok: true }, 'task end failed after ok', end);
    }
    await end();
    return { ok: true };
  });

  const rebootRequested = hook<RebootBody>('reboot_requested', false, (call) => {
    const { botId, body } = call;
    log.info({ botId, argv: body.argv, ppid: body.ppid }, 'bot asked to reboot');
    opts.onRebootRequested(botId, body.argv, body.ppid);
    return { ok: true };
  });

  // Only successes are reported: the shim calls these when the server answered.
  const serverAccepted = (call: HookCall<unknown>): object => {
    opts.onServerAccepted?.(call.botId);
    return { ok: true };
  };

  const routes: HookRoute[] = [
    getState,
    getDimensions,
    onBeforeTask,
    onAfterTask,
    rebootRequested,
    hook('on_handshake', false, serverAccepted),
    hook('on_after_poll', false, serverAccepted),
    // Settings are the same for every bot: no bot id needed, and any JSON body is ignored.
    { hook: 'get_settings', methods: ['POST', 'GET'], namesBot: false, answer: opts.settings },
    { hook: 'healthz', methods: ['GET'], namesBot: false, answer: () => ({ ok: true }) },
  ];

  const authorize = opts.authorizeCaller;
  return new HookServer({
    routes,
    headers: schemaCheck(botHeaders, 'headers'),
    knows,
    guard: authorize && refuseStrangers(authorize, knows),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: log,
    metrics: opts.metrics,
  });
}

/**
 * Runs `wait` with a signal that aborts when the caller hangs up before the
 * answer is written (the shim timed out and will ask again), so abandoned
 * waits do not keep polling the device.
 */
async function untilClosed<T>(
  { response }: HookCall<unknown>,
  wait: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!response.writableEnded) controller.abort();
  };
  response.on('close', onClose);
  try {
    return await wait(controller.signal);
  } finally {
    response.off('close', onClose);
  }
}
