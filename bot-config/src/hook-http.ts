/**
 * The hooks' HTTP server, on node:http: a fixed table of routes, each call checked in the order
 * below and answered with JSON. Every bot makes several calls per poll for months, and Fastify's
 * own work per request was most of what the hooks cost over a bare node:http server (×1.1-1.2 of
 * the shim's whole round trip: BENCHMARKS.md, "Footprint (issue 16)", 34); this does only what
 * the hooks need.
 */
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Logger } from 'pino';
import { hasBody, readJsonBody } from './hook-body.js';
import type { Check } from './hook-checks.js';
import { HookRefusal } from './hook-guards.js';
import type { HookMetrics } from './hook-metrics.js';
import { BOT_ID_HEADER, type Hook } from './hook-schemas.js';
import { errorMessage } from './lib/async.js';

/** A call that got through every check, as its route's answer sees it. */
export interface HookCall<Body> {
  /** The bot the call names; '' on a route that names none. */
  readonly botId: string;
  readonly body: Body;
  readonly request: IncomingMessage;
  /** Its 'close' before the answer is written means the caller hung up. */
  readonly response: ServerResponse;
  /**
   * Writes `answer` with 200 at once, for a route whose answer is known before its work ends;
   * what the route then returns is not sent.
   */
  readonly answerNow: (answer: object) => void;
}

export interface HookRoute {
  readonly hook: Hook;
  /** GET carries no body and stands for `{}`; POST carries JSON. */
  readonly methods: readonly ('GET' | 'POST')[];
  /**
   * The call names one of this node's bots in X-Farm-Bot-Id: the header is checked, the caller
   * authorized, and a bot this node does not run is a 404.
   */
  readonly namesBot: boolean;
  /** Checks a POST's body; without it, any JSON body (or none) is accepted and ignored. */
  readonly body?: Check;
  /** The answer, sent as JSON with 200 unless `answerNow` sent one. */
  readonly answer: (call: HookCall<never>) => Promise<object> | object;
}

export interface HookServerCore {
  routes: readonly HookRoute[];
  /** Checks the headers of a call that names a bot. */
  headers: Check;
  knows: (botId: string) => boolean;
  /** Runs before the body is read, for every call that names a bot; throws a refusal. */
  guard?: (request: IncomingMessage, botId: unknown, hook: Hook) => Promise<void>;
  bodyLimit: number;
  logger: Logger;
  metrics: HookMetrics;
}

/**
 * How long a bot's kept-alive connection may idle: Fastify's 72 s, which the hooks had, longer
 * than a bot's usual poll, so each bot's shim keeps one connection, checked once (hook-callers).
 */
const KEEP_ALIVE_MS = 72_000;

const JSON_TYPE = 'application/json; charset=utf-8';

/** The loopback server the bots' shims call. Configured, not listening: see `listen`. */
export class HookServer {
  readonly server: Server;
  private readonly routes: Map<string, HookRoute>;

  constructor(private readonly core: HookServerCore) {
    this.routes = new Map(core.routes.map((route) => [`/${route.hook}`, route]));
    this.server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, this.handle);
  }

  /** The request listener: what `server` calls, and what tests inject calls into. */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    void this.serve(request, response, performance.now());
  };

  listen({ host, port }: { host: string; port: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject).listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Stops listening and settles once the calls in flight are answered; idle kept-alive
   * connections are closed at once (node:http's close does so since Node 19).
   */
  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.server.close((err) => (err ? reject(err) : resolve()));
    });
  }

  private async serve(request: IncomingMessage, response: ServerResponse, since: number) {
    const { url = '/', method = 'GET' } = request;
    const query = url.indexOf('?');
    const route = this.routes.get(query < 0 ? url : url.slice(0, query));
    try {
      if (route === undefined) throw new HookRefusal(404, `no hook at ${method} ${url}`);
      if (!(route.methods as readonly string[]).includes(method)) {
        const takes = route.methods.includes('POST') ? 'POST with a JSON body' : 'GET';
        throw new HookRefusal(405, `/${route.hook} takes ${takes}`);
      }
      const botId = route.namesBot ? await this.botOf(request, route.hook) : '';
      const body = method === 'GET' ? {} : await this.bodyOf(request, route);
      const answerNow = (answer: object): void =>
        this.send(response, 200, answer, route.hook, since);
      const answer = await route.answer({
        botId,
        body: body as never,
        request,
        response,
        answerNow,
      });
      if (!response.headersSent) answerNow(answer);
    } catch (err) {
      this.refuse(request, response, err, route?.hook ?? 'unknown', since);
    }
  }

  /**
   * The bot a call names, before its body is read: the caller checked first (a stranger learns
   * nothing from a malformed call), then the header, then that this node runs the bot (nothing a
   * caller names may create per-bot records or metric labels unless it is one of our bots).
   */
  private async botOf(request: IncomingMessage, hook: Hook): Promise<string> {
    const header = request.headers[BOT_ID_HEADER];
    await this.core.guard?.(request, header, hook);
    const refused = this.core.headers(request.headers);
    if (refused !== undefined) throw new HookRefusal(400, refused);
    const botId = header as string;
    if (!this.core.knows(botId)) throw new HookRefusal(404, `no bot "${botId}" runs on this node`);
    return botId;
  }

  private async bodyOf(request: IncomingMessage, route: HookRoute): Promise<unknown> {
    const body = await readJsonBody(request, this.core.bodyLimit);
    const refused = route.body?.(body);
    if (refused !== undefined) throw new HookRefusal(400, refused);
    return body;
  }

  private refuse(
    request: IncomingMessage,
    response: ServerResponse,
    err: unknown,
    hook: Hook | 'unknown',
    since: number,
  ): void {
    const code = err instanceof HookRefusal ? err.statusCode : 500;
    const error = errorMessage(err);
    const fields = { hook, botId: request.headers[BOT_ID_HEADER], code };
    if (code >= 500) this.core.logger.error({ ...fields, err }, 'hook failed');
    else this.core.logger.warn({ ...fields, error }, 'hook call refused');
    if (response.headersSent) return;
    // A body left unread (too large, or refused before it was read) is not drained: the
    // connection closes after the answer. A call without a body keeps its connection.
    const close: OutgoingHttpHeaders =
      hasBody(request) && !request.readableEnded ? { connection: 'close' } : {};
    this.send(response, code, { error }, hook, since, close);
  }

  private send(
    response: ServerResponse,
    code: number,
    value: object,
    hook: Hook | 'unknown',
    since: number,
    headers: OutgoingHttpHeaders = {},
  ): void {
    const text = JSON.stringify(value);
    response
      .writeHead(code, {
        ...headers,
        'content-type': JSON_TYPE,
        'content-length': Buffer.byteLength(text),
      })
      .end(text);
    this.core.metrics.count(hook, code, (performance.now() - since) / 1000);
  }
}
