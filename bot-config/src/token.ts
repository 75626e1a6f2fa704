import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { isRecord, untilAborted } from './lib/async.js';
import { Backoff, sleep } from './lib/backoff.js';

export interface AccessToken {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface TokenSourceOptions {
  /** JSON `{"url": "...", "headers": {...}}`, e.g. /etc/swarming_config/oauth2_access_token_config.json. */
  configPath: string;
  logger: Logger;
  /** Metrics go here; a private registry when absent. One TokenSource per registry. */
  registry?: Registry;
  now?: () => number;
  backoff?: { initialMs: number; maxMs: number };
  /** Limit per attempt: a metadata server that accepts and never answers must not hang us. */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** The config file is missing or wrong: retrying cannot help until someone fixes the file. */
export class TokenConfigError extends Error {
  override name = 'TokenConfigError';
}

/** The token endpoint refused us (4xx other than 429): retrying the same request will not help. */
export class TokenEndpointError extends Error {
  override name = 'TokenEndpointError';
}

type FetchResult = 'ok' | 'network_error' | 'http_error' | 'bad_response' | 'config_error';

/** A failure worth retrying, labelled for the metric. */
class TransientTokenError extends Error {
  constructor(
    readonly result: FetchResult,
    message: string,
  ) {
    super(message);
  }
}

export interface TokenConfig {
  url: string;
  headers: Record<string, string>;
}

/** Never refresh later than this before expiry (half the lifetime for short-lived tokens). */
const MAX_REFRESH_MARGIN_MS = 5 * 60_000;
/** An old token with less left than this is not worth handing out while a refresh fails. */
const MIN_USABLE_MS = 30_000;

/**
 * OAuth2 access tokens from a metadata-style endpoint, as the Swarming bot gets them.
 * Error messages and logs name the config file, the endpoint and the failing field, never the
 * token or the configured header values.
 */
export class TokenSource {
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private readonly backoffOptions: { initialMs: number; maxMs: number };
  private readonly requestTimeoutMs: number;
  private readonly fetches: Counter<'result'>;
  private readonly expiry: Gauge;
  private cached: { token: AccessToken; refreshAt: number } | undefined;
  /** Paces refresh attempts while the cached token is still usable and the endpoint fails. */
  private readonly softBackoff: Backoff;
  private softRetryAt = 0;
  private inflight:
    { promise: Promise<AccessToken>; controller: AbortController; waiters: number } | undefined;

  constructor(private readonly options: TokenSourceOptions) {
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? fetch;
    this.backoffOptions = options.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.softBackoff = new Backoff(this.backoffOptions);
    const registers = [options.registry ?? new Registry()];
    this.fetches = new Counter({
      name: 'farm_token_fetches_total',
      help: 'Access token fetch attempts by result.',
      labelNames: ['result'],
      registers,
    });
    this.expiry = new Gauge({
      name: 'farm_token_expiry_timestamp_seconds',
      help: 'When the current access token expires (Unix seconds).',
      registers,
    });
  }

  /**
   * A token valid for a while yet. Callers arriving during a refresh share its fetch; an
   * aborted `signal` only detaches its own caller, and the fetch stops once nobody waits for it.
   * Transient failures are retried until success or abort; config and 4xx errors are thrown.
   */
  async get(signal?: AbortSignal): Promise<AccessToken> {
    signal?.throwIfAborted();
    const now = this.now();
    const cached = this.cached;
    if (cached && now < cached.refreshAt) return cached.token;
    if (cached && now < this.softRetryAt && this.usable(cached.token)) return cached.token;
    const inflight = this.inflight ?? this.startRefresh();
    inflight.waiters += 1;
    try {
      return await untilAborted(inflight.promise, signal);
    } finally {
      inflight.waiters -= 1;
      if (inflight.waiters === 0 && this.inflight === inflight) {
        // The last interested caller gave up: do not keep retrying on nobody's behalf.
        this.inflight = undefined;
        inflight.controller.abort(new Error('every caller waiting for the token gave up'));
      }
    }
  }

  private startRefresh(): NonNullable<TokenSource['inflight']> {
    const controller = new AbortController();
    const inflight = {
      controller,
      waiters: 0,
      promise: this.fetchWithRetry(controller.signal).finally(() => {
        if (this.inflight === inflight) this.inflight = undefined;
      }),
    };
    // Waiters see the rejection; this only keeps it from being unhandled when all of them left.
    inflight.promise.catch(() => undefined);
    this.inflight = inflight;
    return inflight;
  }

  private async fetchWithRetry(signal: AbortSignal): Promise<AccessToken> {
    const backoff = new Backoff(this.backoffOptions);
    for (;;) {
      let config: TokenConfig;
      try {
        // Read on every refresh so an updated Kubernetes Secret applies without a restart.
        config = await readTokenConfig(this.options.configPath);
      } catch (err) {
        this.fetches.inc({ result: 'config_error' });
        throw err;
      }
      try {
        const token = await this.fetchOnce(config, signal);
        this.fetches.inc({ result: 'ok' });
        this.softBackoff.reset();
        const lifetime = token.expiresAt - this.now();
        const margin = Math.min(MAX_REFRESH_MARGIN_MS, lifetime / 2);
        this.cached = { token, refreshAt: token.expiresAt - margin };
        this.expiry.set(token.expiresAt / 1000);
        this.logger.info(
          { expiresAt: new Date(token.expiresAt).toISOString(), endpoint: describeUrl(config.url) },
          'access token refreshed',
        );
        return token;
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (!(err instanceof TransientTokenError)) throw err;
        this.fetches.inc({ result: err.result });
        const fallback = this.cached?.token;
        if (fallback && this.usable(fallback)) {
          // Early refresh failed: keep serving the still-valid token rather than blocking
          // callers, and try again after a backoff delay.
          this.softRetryAt = this.now() + this.softBackoff.next();
          this.logger.warn(
            { reason: err.message, expiresAt: new Date(fallback.expiresAt).toISOString() },
            'access token refresh failed; using the current token meanwhile',
          );
          return fallback;
        }
        const delayMs = backoff.next();
        this.logger.warn(
          { reason: err.message, attempt: backoff.attempts, delayMs },
          'access token fetch failed; retrying',
        );
        await sleep(delayMs, signal);
      }
    }
  }

  private usable(token: AccessToken): boolean {
    return token.expiresAt - this.now() > MIN_USABLE_MS;
  }

  private async fetchOnce(config: TokenConfig, signal: AbortSignal): Promise<AccessToken> {
    const where = `token endpoint ${describeUrl(config.url)}`;
    const started = this.now();
    const attempt = AbortSignal.any([signal, AbortSignal.timeout(this.requestTimeoutMs)]);
    let response: Response;
    try {
      response = await this.fetch(config.url, { headers: config.headers, signal: attempt });
    } catch (err) {
      throw new TransientTokenError('network_error', `${where}: ${describeError(err)}`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      const message = `${where} answered HTTP ${response.status}`;
      if (response.status >= 500 || response.status === 429) {
        throw new TransientTokenError('http_error', message);
      }
      throw new TokenEndpointError(message);
    }
    let body: string;
    try {
      body = await response.text();
    } catch (err) {
      throw new TransientTokenError('network_error', `${where}: ${describeError(err)}`);
    }
    const parsed = parseTokenResponse(body);
    if (typeof parsed === 'string') {
      throw new TransientTokenError('bad_response', `${where}: ${parsed}`);
    }
    // Counted from the request start, so network time only makes us refresh earlier.
    return { accessToken: parsed.accessToken, expiresAt: started + parsed.expiresInMs };
  }
}

/**
 * Parses `{access_token, expires_in, token_type}`; returns a reason string when the body is
 * unusable. The reason names fields only: the body may hold the token.
 */
export function parseTokenResponse(
  body: string,
): { accessToken: string; expiresInMs: number } | string {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return 'response is not JSON';
  }
  if (!isRecord(json)) return 'response is not a JSON object';
  const { access_token: token, expires_in: expiresIn, token_type: type } = json;
  if (typeof token !== 'string' || token === '') return 'field access_token is missing or empty';
  if (typeof expiresIn !== 'number' || !(expiresIn > 0)) {
    return 'field expires_in is not a positive number';
  }
  if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer')) {
    return 'field token_type is not "Bearer"';
  }
  return { accessToken: token, expiresInMs: expiresIn * 1000 };
}

/** Reads and validates the token config; every failure names the file and the field. */
export async function readTokenConfig(path: string): Promise<TokenConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TokenConfigError(`token config ${path} cannot be read: ${describeError(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the text, which may hold secret header values.
    throw new TokenConfigError(`token config ${path} is not valid JSON`);
  }
  if (!isRecord(json)) throw new TokenConfigError(`token config ${path} is not a JSON object`);
  const { url, headers = {} } = json;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url) || !URL.canParse(url)) {
    throw new TokenConfigError(`token config ${path}: field "url" must be an http(s) URL`);
  }
  if (!isRecord(headers)) {
    throw new TokenConfigError(`token config ${path}: field "headers" must be an object`);
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') {
      throw new TokenConfigError(`token config ${path}: field "headers.${name}" must be a string`);
    }
  }
  return { url, headers: headers as Record<string, string> };
}

/** Origin and path only: a query string could carry credentials. */
function describeUrl(url: string): string {
  const parsed = new URL(url);
  return parsed.origin + parsed.pathname;
}

/** fetch() hides the useful part (ECONNREFUSED, timeout) in `cause`. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${err.message} (${code ?? cause.message})`;
  }
  return err.message;
}
