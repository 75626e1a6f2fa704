import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { Backoff, sleep, type BackoffOptions } from './lib/backoff.js';
import { botZipPaths, copyZip, newestGoodZip } from './start-zip.js';
import { describeError } from './token.js';
import { isBotZip } from './zip-check.js';

export interface BotCodeStoreOptions {
  /** Swarming server base URL, e.g. https://chromium-swarm.appspot.com */
  server: string;
  botId: string;
  /** The zip lives at `<stateDir>/swarming_bot.zip`. */
  stateDir: string;
  tokens: { get(signal?: AbortSignal): Promise<{ accessToken: string }> };
  logger: Logger;
  registry: Registry;
  /** Retry pace for network errors, timeouts, 5xx and corrupt bodies. */
  backoff?: { initialMs: number; maxMs: number };
  /** Slower pace for 401/403 and token failures: a person has to fix those. */
  authBackoff?: { initialMs: number; maxMs: number };
  /** Waits between attempts; tests pass one that records the delays instead of taking them. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Limit for one whole download, body included: a stalled server must not hang us. */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

type DownloadResult = 'ok' | 'http_error' | 'auth_error' | 'network_error' | 'corrupt';

/** Why one attempt failed; auth and token failures pick the slower backoff. */
interface Failure {
  /** token_error and io_error are not download outcomes and stay out of the metric. */
  result: Exclude<DownloadResult, 'ok'> | 'token_error' | 'io_error';
  message: string;
}

const ZIP_NAME = 'swarming_bot.zip';
const TEMP_PATTERN = /^swarming_bot\.zip\.[0-9a-f]+\.tmp$/;
const METRIC = 'farm_bot_code_downloads_total';

/**
 * Keeps a valid `swarming_bot.zip` on disk. Downloads go to a temp file in the same directory,
 * are fsynced and verified, and only then renamed over the target, so a power cut or a bad
 * body never leaves the bot without its last good code.
 */
export class BotCodeStore {
  /** The ensure() under way, shared by every caller until it settles. */
  private ensuring: Promise<string> | undefined;
  /** The newest() under way, shared likewise: bots starting together look once. */
  private choosing: Promise<string> | undefined;
  readonly zipPath: string;
  private readonly logger: Logger;
  private readonly fetch: typeof fetch;
  private readonly backoff: BackoffOptions;
  private readonly authBackoff: BackoffOptions;
  private readonly requestTimeoutMs: number;
  private readonly downloads: Counter<'result'>;
  /** Temp files of attempts in progress, which the crash-leftover sweep must not delete. */
  private readonly ownTemps = new Set<string>();

  constructor(private readonly options: BotCodeStoreOptions) {
    this.zipPath = join(options.stateDir, ZIP_NAME);
    this.logger = options.logger.child({ botId: options.botId });
    this.fetch = options.fetch ?? fetch;
    this.backoff = options.backoff ?? { initialMs: 2_000, maxMs: 5 * 60_000 };
    this.authBackoff = options.authBackoff ?? { initialMs: 60_000, maxMs: 30 * 60_000 };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5 * 60_000;
    // One store per bot slot, all in one registry: reuse the counter the first one made.
    this.downloads =
      (options.registry.getSingleMetric(METRIC) as Counter<'result'> | undefined) ??
      new Counter({
        name: METRIC,
        help: 'Swarming bot code download attempts by result.',
        labelNames: ['result'],
        registers: [options.registry],
      });
  }

  /**
   * The newest whole bot code on this host, as a path to the cache: the cached zip, or a bot's
   * own newer code under `botDirs` (the bot updated itself when the server said so), which is
   * then copied into the cache with its time, so that new slots and restarts start on it
   * rather than on the first version ever downloaded. Following the bots costs no download
   * and no token, works while the server is unreachable, and can only pick code the server
   * handed out. Downloads (until success or abort) only when no whole zip exists at all.
   */
  newest(botDirs: readonly string[], signal: AbortSignal): Promise<string> {
    this.choosing ??= this.newestOnce(botDirs, signal).finally(() => {
      this.choosing = undefined;
    });
    return this.choosing;
  }

  private async newestOnce(botDirs: readonly string[], signal: AbortSignal): Promise<string> {
    await this.ensuring?.catch(() => undefined);
    const candidates = [this.zipPath, ...botDirs.flatMap(botZipPaths)];
    const best = await newestGoodZip(candidates, (path, reason) =>
      this.logger.warn({ path, reason }, 'ignoring bot code that is not a whole zip'),
    );
    if (!best) return this.ensure(signal);
    // The bot's last-known-good copy of code it got from the cache is newer but the same.
    if (best.path !== this.zipPath && !(await sameContent(best.path, this.zipPath))) {
      await copyZip(best, this.zipPath);
      await syncDir(this.options.stateDir);
      this.logger.info(
        { from: best.path, path: this.zipPath },
        'bot code cache follows a bot that updated itself',
      );
    }
    return this.zipPath;
  }

  /** The path of a valid cached zip, downloading it (until success or abort) when needed. */
  ensure(signal: AbortSignal): Promise<string> {
    // Bots starting together (one per phone) share one check and one download, with the
    // first caller's signal, instead of each fetching the same zip.
    this.ensuring ??= this.ensureOnce(signal).finally(() => {
      this.ensuring = undefined;
    });
    return this.ensuring;
  }

  private async ensureOnce(signal: AbortSignal): Promise<string> {
    await this.sweepTemps();
    const check = await isBotZip(this.zipPath);
    if (check.ok) return this.zipPath;
    this.logger.warn(
      { path: this.zipPath, reason: check.reason },
      'no usable bot code; downloading',
    );
    return this.retryUntilDownloaded(signal, await this.attempt(signal));
  }

  /**
   * Downloads now. On failure keeps and returns the last good zip if there is one; without one,
   * retries until success or abort.
   */
  async refresh(signal: AbortSignal): Promise<string> {
    await this.ensuring?.catch(() => undefined);
    const failure = await this.attempt(signal);
    if (!failure) return this.zipPath;
    if ((await isBotZip(this.zipPath)).ok) {
      this.report(failure);
      this.logger.warn(
        { path: this.zipPath },
        'bot code refresh failed; keeping the last good zip',
      );
      return this.zipPath;
    }
    return this.retryUntilDownloaded(signal, failure);
  }

  private async retryUntilDownloaded(
    signal: AbortSignal,
    first: Failure | undefined,
  ): Promise<string> {
    const backoff = new Backoff(this.backoff);
    const authBackoff = new Backoff(this.authBackoff);
    for (let failure = first; failure; failure = await this.attempt(signal)) {
      const slow = failure.result === 'auth_error' || failure.result === 'token_error';
      const delayMs = (slow ? authBackoff : backoff).next();
      this.report(failure, delayMs);
      await (this.options.sleep ?? sleep)(delayMs, signal);
    }
    return this.zipPath;
  }

  private report(failure: Failure, retryInMs?: number): void {
    const fields = { reason: failure.message, retryInMs };
    if (failure.result === 'auth_error') {
      this.logger.error(
        fields,
        `Swarming refused the bot code download: the token's service account is not authorized ` +
          `for bot id "${this.options.botId}" (check the bot group and service account config)`,
      );
    } else if (failure.result === 'token_error') {
      this.logger.error(fields, 'cannot get an access token to download the bot code');
    } else if (failure.result === 'io_error') {
      this.logger.error(fields, `cannot write the bot code to ${this.options.stateDir}`);
    } else {
      this.logger.warn(fields, 'bot code download failed');
    }
  }

  /** One download; undefined on success. Throws only when `signal` aborts. */
  private async attempt(signal: AbortSignal): Promise<Failure | undefined> {
    signal.throwIfAborted();
    let token: string;
    try {
      token = (await this.options.tokens.get(signal)).accessToken;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      return { result: 'token_error', message: describeError(err) };
    }
    const temp = join(this.options.stateDir, `${ZIP_NAME}.${randomBytes(6).toString('hex')}.tmp`);
    this.ownTemps.add(temp);
    try {
      const failure = await this.download(token, temp, signal);
      const result = failure?.result ?? 'ok';
      if (result !== 'io_error') this.downloads.inc({ result });
      return failure;
    } finally {
      this.ownTemps.delete(temp);
      // Cleanup must not turn a reported failure into a crash; the next ensure() sweeps leftovers.
      await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  private async download(
    token: string,
    temp: string,
    signal: AbortSignal,
  ): Promise<Failure | undefined> {
    const request = AbortSignal.any([signal, AbortSignal.timeout(this.requestTimeoutMs)]);
    try {
      await mkdir(this.options.stateDir, { recursive: true });
      // fetch follows the 302 to /swarming/api/v1/bot/bot_code/<sha> and, the redirect being
      // same-origin, keeps the Authorization header (the fake server checks both requests).
      const response = await this.fetch(new URL('/bot_code', this.options.server), {
        headers: { authorization: `Bearer ${token}`, 'x-luci-swarming-bot-id': this.options.botId },
        signal: request,
      });
      if (!response.ok || !response.body) {
        const detail = (await response.text()).slice(0, 300);
        const message = `HTTP ${response.status} from ${response.url}: ${detail}`;
        const auth = response.status === 401 || response.status === 403;
        return { result: auth ? 'auth_error' : 'http_error', message };
      }
      const file = await open(temp, 'w');
      try {
        for await (const chunk of response.body) await file.write(chunk);
        await file.sync();
      } finally {
        await file.close();
      }
      const check = await isBotZip(temp);
      if (!check.ok) return { result: 'corrupt', message: `${response.url}: ${check.reason}` };
      await rename(temp, this.zipPath);
      await syncDir(this.options.stateDir);
      this.logger.info({ path: this.zipPath, from: response.url }, 'bot code downloaded');
      return undefined;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      // Local file errors (full SD card, read-only mount) carry a syscall; fetch errors do not.
      const local = typeof (err as NodeJS.ErrnoException).syscall === 'string';
      return { result: local ? 'io_error' : 'network_error', message: describeError(err) };
    }
  }

  /** Removes temp files a crash or power cut left behind. */
  private async sweepTemps(): Promise<void> {
    const names = await readdir(this.options.stateDir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(this.options.stateDir, name);
      if (TEMP_PATTERN.test(name) && !this.ownTemps.has(path)) await rm(path, { force: true });
    }
  }
}

/** Whether two files hold the same bytes; a missing file is never the same. */
async function sameContent(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([readFile(a), readFile(b)].map((p) => p.catch(() => undefined)));
  return x !== undefined && y !== undefined && x.equals(y);
}

/** Makes the rename itself durable: without it a power cut can bring the old entry back. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
