import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { BotDeviceView, BotDevices, Dimensions } from './bot-devices.js';
import { MAX_VALUE_LENGTH, mergeDimensions } from './dimensions.js';
import { limitJsonDepth, refuseUnknownBot } from './hook-guards.js';
import { joinReasons, mergeState } from './state.js';

/** The header the Python shim names its bot with (Node lower-cases header names). */
export const BOT_ID_HEADER = 'x-farm-bot-id';

/**
 * Bot state with environment and disks is a few kB; this leaves room without
 * inviting abuse (the last bodies of each bot are kept for /status).
 */
const DEFAULT_BODY_LIMIT = 256 * 1024;

/**
 * How long get_state/get_dimensions wait for the device view. Shorter than the
 * shim's own 5 s timeout so the bot gets our reason rather than a bare timeout,
 * and a wedged device layer cannot pile up one pending request per poll.
 */
const VIEW_TIMEOUT_MS = 4000;

export interface HookServerOptions {
  devices: BotDevices;
  /** A reason the supervisor holds against the bot itself (e.g. a crash loop), if any. */
  botQuarantine: (botId: string) => string | undefined;
  /** FARM_POOL: when set, replaces the bot's own `pool`; undefined keeps the bot's. */
  pool?: string;
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
  authorizeCaller?: (
    request: FastifyRequest,
    botId: string,
    hook: Hook,
  ) => Promise<string | undefined>;
  logger: Logger;
  registry: Registry;
  bodyLimit?: number;
}

export interface HookExchange {
  hook: 'get_state' | 'get_dimensions';
  botId: string;
  botOwn: Record<string, unknown>;
  answer: Record<string, unknown>;
}

const HOOKS = [
  'get_state',
  'get_dimensions',
  'get_settings',
  'on_before_task',
  'on_after_task',
  'reboot_requested',
  'on_handshake',
  'on_after_poll',
  'healthz',
] as const;
export type Hook = (typeof HOOKS)[number];

/**
 * The id comes back to Swarming as the `id` dimension, so it must be a value
 * the server accepts: 1 to 256 characters (code points, as Python counts
 * them), no surrounding white space. Ours allows none inside either, so a
 * doubled header (Node joins it as "a, b") is refused too.
 */
const botHeaders = {
  type: 'object',
  required: [BOT_ID_HEADER],
  properties: {
    [BOT_ID_HEADER]: { type: 'string', pattern: '^\\S+$', maxLength: MAX_VALUE_LENGTH },
  },
} as const;

const schemas = {
  get_state: { type: 'object' },
  get_dimensions: {
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
  },
  on_before_task: {
    type: 'object',
    properties: {
      task_id: { type: 'string' },
      // One per hook invocation of the shim: repeated calls while waiting share it.
      call_id: { type: 'string', minLength: 1 },
      wait_ms: { type: 'integer', minimum: 0 },
    },
  },
  on_after_task: {
    type: 'object',
    required: ['failure', 'internal_failure'],
    properties: {
      failure: { type: 'boolean' },
      internal_failure: { type: 'boolean' },
      task_id: { type: 'string' },
    },
  },
  on_handshake: { type: 'object' },
  on_after_poll: {
    type: 'object',
    required: ['cmd'],
    properties: { cmd: { type: 'string', minLength: 1 } },
  },
  reboot_requested: {
    type: 'object',
    required: ['argv'],
    properties: { argv: { type: 'array', items: { type: 'string' } }, ppid: { type: 'integer' } },
  },
} as const;

interface BeforeTaskBody {
  task_id?: string;
  call_id?: string;
  wait_ms?: number;
}
/** POST requires both; a bodiless GET (Skia's shim style) only says the task ended. */
interface AfterTaskBody {
  failure?: boolean;
  internal_failure?: boolean;
  task_id?: string;
}
interface RebootBody {
  argv: string[];
  ppid?: number;
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
    // Every bot calls several hooks per poll for months: no per-request log lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Fastify's defaults coerce "true" to true and "x" to ["x"]: a malformed
    // body must be refused, not reinterpreted into dimensions Swarming acts on.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  // Only JSON bodies are hooks; anything else is a 415.
  app.removeContentTypeParser('text/plain');
  limitJsonDepth(app);
  const knownBotsOnly = refuseUnknownBot((botId) => opts.devices.knows(botId), botIdOf);

  const requests = new Counter({
    name: 'farm_hook_requests_total',
    help: 'Hook calls from Swarming bots, by hook and HTTP status code.',
    labelNames: ['hook', 'code'],
    registers: [opts.registry],
  });
  const duration = new Histogram({
    name: 'farm_hook_duration_seconds',
    help: 'Time to answer a hook call (on_before_task includes the wait for the device).',
    labelNames: ['hook'],
    buckets: [0.005, 0.02, 0.1, 0.5, 2, 10, 60, 300],
    registers: [opts.registry],
  });

  app.addHook('onResponse', async (request, reply) => {
    const hook = hookOf(request);
    requests.inc({ hook, code: String(reply.statusCode) });
    duration.observe({ hook }, reply.elapsedTime / 1000);
  });

  // A hook called with GET (as Skia's shim did for get_settings) has no body: it means {}.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined) request.body = {};
  });

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

  // Last drop reasons per bot, so a persistent bad dimension is logged once, not every poll.
  const lastDropped = new Map<string, string>();
  // The call_id/task_id whose start was already reported, per bot: the shim repeats
  // on_before_task while it waits, and that must not count as new tasks.
  // Keyed by task id when the shim knows it: a hook defined in both the zip's bot_config.py
  // and the bots.cfg script is called in both (e.g. our shim in both places), and the task
  // must still start and end once.
  const started = new Map<string, string>();
  const ended = new Map<string, string>();

  async function readView(botId: string): Promise<{ view?: BotDeviceView; quarantined?: string }> {
    const supervisor = opts.botQuarantine(botId);
    try {
      const view = await withTimeout(opts.devices.view(botId), VIEW_TIMEOUT_MS);
      return { view, quarantined: joinReasons(supervisor, view.quarantined) };
    } catch (err) {
      log.warn({ botId, err }, 'cannot read the device view');
      const reason = `farm-agent cannot read devices: ${errorMessage(err)}`;
      return { quarantined: joinReasons(supervisor, reason) };
    }
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
    const name = url.slice(1) as Hook;
    const authorize = opts.authorizeCaller;
    // Before the body is even read: a stranger's body is nobody's business. Only
    // ids of bots this node runs are checked here (all well-formed), so a missing,
    // malformed or repeated header still gets its 400 from the header schema and
    // an unknown bot its 404 from knownBotsOnly.
    const onRequest = authorize
      ? async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
          const botId = request.headers[BOT_ID_HEADER];
          if (typeof botId !== 'string' || !opts.devices.knows(botId)) return;
          const refused = await authorize(request, botId, name);
          if (refused === undefined) return;
          log.warn({ hook: name, botId, reason: refused }, 'hook caller refused');
          await reply.code(403).send({ error: refused });
        }
      : undefined;
    const route = { onRequest, preHandler: knownBotsOnly };
    app.post<{ Body: Body }>(url, { schema: { headers: botHeaders, body }, ...route }, handler);
    if (acceptsGet) {
      app.get<{ Body: Body }>(url, { schema: { headers: botHeaders }, ...route }, handler);
    }
  }

  hook<Record<string, unknown>>(
    '/get_state',
    schemas.get_state,
    async (request) => {
      const botId = botIdOf(request);
      const { view, quarantined } = await readView(botId);
      const answer = mergeState(request.body, { quarantined, maintenance: view?.maintenance });
      opts.onAnswered?.({ hook: 'get_state', botId, botOwn: request.body, answer });
      return answer;
    },
    true,
  );

  hook<Dimensions>(
    '/get_dimensions',
    schemas.get_dimensions,
    async (request) => {
      const botId = botIdOf(request);
      const { view, quarantined } = await readView(botId);
      const agentOwned: Dimensions = { ...view?.dimensions };
      if (quarantined) {
        // The full reason travels in the state; the dimension only has to be
        // a valid, truthy value, so ours is shortened rather than dropped.
        agentOwned['quarantined'] = [
          ...(agentOwned['quarantined'] ?? []),
          clip(quarantined, MAX_VALUE_LENGTH),
        ];
      }
      const merged = mergeDimensions(request.body, agentOwned, { botId, pool: opts.pool });
      const dropped = merged.dropped.join('\n');
      if (dropped !== (lastDropped.get(botId) ?? '')) {
        if (dropped)
          log.warn({ botId, dropped: merged.dropped }, 'dimensions Swarming would reject');
        lastDropped.set(botId, dropped);
      }
      opts.onAnswered?.({
        hook: 'get_dimensions',
        botId,
        botOwn: request.body,
        answer: merged.dimensions,
      });
      return merged.dimensions;
    },
    true,
  );

  hook<BeforeTaskBody>(
    '/on_before_task',
    schemas.on_before_task,
    async (request, reply) => {
      const botId = botIdOf(request);
      const { task_id: taskId, call_id: callId, wait_ms: waitMs } = request.body;
      const key = taskId ?? callId;
      if (key === undefined || started.get(botId) !== key) {
        // Claimed before awaiting so a concurrent repeat does not report it twice.
        if (key === undefined) started.delete(botId);
        else started.set(botId, key);
        ended.delete(botId);
        try {
          await opts.devices.taskStarted(botId, taskId === undefined ? {} : { taskId });
        } catch (err) {
          started.delete(botId);
          throw err;
        }
      }
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
    schemas.on_after_task,
    async (request) => {
      const botId = botIdOf(request);
      const taskId = request.body.task_id;
      started.delete(botId);
      if (taskId !== undefined) {
        if (ended.get(botId) === taskId) return { ok: true, duplicate: true };
        ended.set(botId, taskId);
      }
      await opts.devices.taskEnded(botId, {
        failure: request.body.failure ?? false,
        internalFailure: request.body.internal_failure ?? false,
      });
      return { ok: true };
    },
    true,
  );

  hook<RebootBody>(
    '/reboot_requested',
    schemas.reboot_requested,
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
      schemas[url === '/on_handshake' ? 'on_handshake' : 'on_after_poll'],
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

/** The metric label for a request: a known hook name, never a caller-chosen URL. */
function hookOf(request: FastifyRequest): Hook | 'unknown' {
  const name = request.routeOptions.url?.slice(1);
  return HOOKS.find((h) => h === name) ?? 'unknown';
}

function botIdOf(request: FastifyRequest): string {
  // Present and well-formed: the route's header schema ran first.
  return request.headers[BOT_ID_HEADER] as string;
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

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
