import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import type { BotDevices, Dimensions } from './bot-devices.js';
import { BotAnswers, type BotAnswersOptions, type HookExchange } from './hook-answers.js';
import {
  limitJsonDepth,
  refuseStrangers,
  refuseUnknownBot,
  type AuthorizeCaller,
} from './hook-guards.js';
import type { HookMetrics } from './hook-metrics.js';
import { lazyCompilers } from './lazy-compilers.js';
import {
  BOT_ID_HEADER,
  HOOKS,
  bodySchemas,
  botHeaders,
  botIdOf,
  hookOf,
  type AfterTaskBody,
  type BeforeTaskBody,
  type Hook,
  type RebootBody,
} from './hook-schemas.js';
import { TaskLedger } from './task-ledger.js';

export { BOT_ID_HEADER, type Hook } from './hook-schemas.js';
export type { HookExchange } from './hook-answers.js';
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
export function createHookServer(opts: HookServerOptions): FastifyInstance {
  const log = opts.logger;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Every bot calls several hooks per poll for months: no per-request log lines, and no
    // per-request child logger either (its bindings cost more than answering a hook); what
    // is logged about a call says which hook and bot itself.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger) => logger,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Fastify's defaults coerce "true" to true and "x" to ["x"]: a malformed
    // body must be refused, not reinterpreted into dimensions Swarming acts on.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // Hooks are served as soon as the server listens; each schema compiles at its first use.
    schemaController: { compilersFactory: lazyCompilers },
  });
  // Only JSON bodies are hooks; anything else is a 415.
  app.removeContentTypeParser('text/plain');
  limitJsonDepth(app);
  const knows = (botId: string): boolean => opts.devices.knows(botId);
  const knownBotsOnly = refuseUnknownBot(knows, botIdOf);

  opts.metrics.instrument(app);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const code = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    const fields = { hook: hookOf(request), botId: request.headers[BOT_ID_HEADER], code };
    if (code >= 500) log.error({ ...fields, err: error }, 'hook failed');
    else log.warn({ ...fields, error: error.message }, 'hook call refused');
    return reply.code(code).send({ error: error.message });
  });
  app.setNotFoundHandler((request, reply) =>
    HOOKS.some((h) => request.url === `/${h}`)
      ? reply.code(405).send({ error: `${request.url} takes POST with a JSON body` })
      : reply.code(404).send({ error: `no hook at ${request.method} ${request.url}` }),
  );

  const answers = new BotAnswers(opts);
  const tasks = new TaskLedger();

  /**
   * A task hook whose answer is known before its work: the answer is written, then `work` runs
   * at once, in the same turn, so nothing else runs between them. A failure then comes too late
   * for the bot to hear of it, and is logged as `failure`.
   */
  async function answerFirst(
    reply: FastifyReply,
    answer: object,
    botId: string,
    failure: string,
    work: () => Promise<unknown>,
  ): Promise<FastifyReply> {
    void reply.send(answer);
    await work().catch((err: unknown) => log.error({ botId, err }, failure));
    return reply;
  }

  /**
   * A bot hook: POST with a JSON body checked against `body`. Where an empty
   * body means something, GET is accepted too (as Skia's shim used it) and
   * stands for `{}`; a GET carries no body, so Fastify allows no body schema on it.
   */
  function hook<Body>(
    url: `/${Hook}`,
    body: object,
    handler: (request: FastifyRequest<{ Body: Body }>, reply: FastifyReply) => Promise<unknown>,
    acceptsGet: boolean,
  ): void {
    const authorize = opts.authorizeCaller;
    const onRequest =
      authorize && refuseStrangers(authorize, url.slice(1) as Hook, BOT_ID_HEADER, knows, log);
    const route = { onRequest, preHandler: knownBotsOnly };
    app.post<{ Body: Body }>(url, { schema: { headers: botHeaders, body }, ...route }, handler);
    if (acceptsGet) {
      app.get<{ Body: Body }>(
        url,
        { schema: { headers: botHeaders }, preValidation: emptyBody, ...route },
        handler,
      );
    }
  }

  hook<Record<string, unknown>>(
    '/get_state',
    bodySchemas.get_state,
    async (request) => answers.state(botIdOf(request), request.body),
    true,
  );

  hook<Dimensions>(
    '/get_dimensions',
    bodySchemas.get_dimensions,
    async (request) => answers.dimensions(botIdOf(request), request.body),
    true,
  );

  hook<BeforeTaskBody>(
    '/on_before_task',
    bodySchemas.on_before_task,
    async (request, reply) => {
      const botId = botIdOf(request);
      const { task_id: taskId, call_id: callId, wait_ms: waitMs } = request.body;
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
        return answerFirst(reply, { ready: true }, botId, 'task start failed after ready', () =>
          start().then(() => opts.devices.whenReady(botId, 0)),
        );
      }
      if (starting) await start();
      const timeoutMs = Math.min(waitMs ?? opts.readyWaitMaxMs, opts.readyWaitMaxMs);
      const ready = await untilClosed(reply, (signal) =>
        opts.devices.whenReady(botId, timeoutMs, signal),
      );
      return { ready };
    },
    true,
  );

  hook<AfterTaskBody>(
    '/on_after_task',
    bodySchemas.on_after_task,
    async (request, reply) => {
      const botId = botIdOf(request);
      if (!tasks.claimEnd(botId, request.body.task_id)) return { ok: true, duplicate: true };
      const end = (): Promise<void> =>
        opts.devices.taskEnded(botId, {
          failure: request.body.failure ?? false,
          internalFailure: request.body.internal_failure ?? false,
        });
      if (opts.devices.endsAtOnce(botId)) {
        // The answer only says the end was heard, and an end with nothing to switch or wait for
        // is over within this turn, before the bot's next call can arrive: it goes out first.
        return answerFirst(reply, { ok: true }, botId, 'task end failed after ok', end);
      }
      await end();
      return { ok: true };
    },
    true,
  );

  hook<RebootBody>(
    '/reboot_requested',
    bodySchemas.reboot_requested,
    async (request) => {
      const botId = botIdOf(request);
      log.info({ botId, argv: request.body.argv, ppid: request.body.ppid }, 'bot asked to reboot');
      opts.onRebootRequested(botId, request.body.argv, request.body.ppid);
      return { ok: true };
    },
    false,
  );

  // Only successes are reported: the shim calls these when the server answered.
  for (const url of ['/on_handshake', '/on_after_poll'] as const) {
    hook<Record<string, unknown>>(
      url,
      bodySchemas[url === '/on_handshake' ? 'on_handshake' : 'on_after_poll'],
      async (request) => {
        opts.onServerAccepted?.(botIdOf(request));
        return { ok: true };
      },
      false,
    );
  }

  // Settings are the same for every bot: no bot id needed.
  app.post('/get_settings', async () => opts.settings());
  app.get('/get_settings', async () => opts.settings());
  app.get('/healthz', async () => ({ ok: true }));

  return app;
}

/** A hook called with GET (as Skia's shim did for get_settings) has no body: it means {}. */
function emptyBody(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  request.body = {};
  done();
}

/**
 * Runs `wait` with a signal that aborts when the caller hangs up before the
 * answer is written (the shim timed out and will ask again), so abandoned
 * waits do not keep polling the device.
 */
async function untilClosed<T>(
  reply: FastifyReply,
  wait: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableEnded) controller.abort();
  };
  reply.raw.on('close', onClose);
  try {
    return await wait(controller.signal);
  } finally {
    reply.raw.off('close', onClose);
  }
}
