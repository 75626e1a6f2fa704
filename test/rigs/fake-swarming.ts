import { createHash } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * ok: serve bot code. error500: every request fails. stall: accept and never answer.
 * corrupt: the versioned URL serves half the zip. unauthorized: a valid token whose account
 * may not act as this bot (403, as the server answers a bot outside its bot group).
 */
export type FakeSwarmingMode = 'ok' | 'error500' | 'stall' | 'corrupt' | 'unauthorized';

export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body of a bot API call (handshake, poll). */
  body?: unknown;
}

export interface FakeSwarming {
  /** Base URL, no trailing slash. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  mode: FakeSwarmingMode;
  /** Served as the bots.cfg `bot_config` script with every handshake when set. */
  injectedBotConfig?: string;
  /**
   * Refuse handshake and poll with 403 although the token is valid, as the server does for an
   * account that may not act as the bot; bot code downloads still work.
   */
  refuseBots?: boolean;
  /**
   * Serves this zip from now on: bots whose poll reports another version are told to
   * `update` to it, as the server does after a bot code deployment.
   */
  setZip(zip: Buffer): void;
  close(): Promise<void>;
}

export const BOT_CODE_PATH = '/swarming/api/v1/bot/bot_code/';

const BOT_API = '/swarming/api/v1/bot/';
/** How long a bot is told to sleep between polls. */
const POLL_SLEEP_S = 0.2;

/**
 * A strict stand-in for the Swarming server's bot endpoints: bot code (`/bot_code` and the
 * versioned zip), `handshake` and `poll`. It rejects what the real one rejects (no or wrong
 * bearer token: 401; no bot id in header or query: 400) on every URL. The version of the bot
 * code is the sha256 of the zip, which the test bot computes of itself the same way.
 */
export async function startFakeSwarming(options: {
  zip: Buffer;
  token: string;
}): Promise<FakeSwarming> {
  let zip = options.zip;
  let sha = sha256(zip);
  const requests: RecordedRequest[] = [];
  const fake: FakeSwarming & { url: string } = {
    url: '',
    requests,
    mode: 'ok' as FakeSwarmingMode,
    setZip(next: Buffer): void {
      zip = next;
      sha = sha256(next);
    },
    close: (): Promise<void> =>
      new Promise<void>((resolve) => {
        // Stalled requests hold their sockets open; close() alone would wait for them forever.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const server = createServer((req, res) => {
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
    };
    requests.push(recorded);
    if (fake.mode === 'stall') return;
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      return error(res, 401, 'missing or invalid OAuth bearer token');
    }
    const botId = req.headers['x-luci-swarming-bot-id'] ?? url.searchParams.get('bot_id');
    if (!botId) return error(res, 400, 'bot ID is required');
    if (fake.mode === 'unauthorized') {
      return error(res, 403, `the caller is not authorized to act as bot "${String(botId)}"`);
    }
    if (fake.mode === 'error500') return error(res, 500, 'internal server error');
    if (
      req.method === 'POST' &&
      ['handshake', 'poll'].includes(url.pathname.slice(BOT_API.length))
    ) {
      readJson(req).then(
        (body) => {
          recorded.body = body;
          if (fake.refuseBots) {
            return error(res, 403, `not allowed to act as bot "${String(botId)}"`);
          }
          // As the server's bot API: a JSON object, or a 400 with the reason.
          if (typeof body !== 'object' || body === null || Array.isArray(body)) {
            return error(res, 400, 'body is not a JSON object');
          }
          const answer = url.pathname.endsWith('/handshake') ? handshake() : poll(body);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        },
        // The client went away mid-body: nothing left to answer.
        () => res.destroy(),
      );
      return;
    }
    if (req.method !== 'GET') return error(res, 405, 'method not allowed');
    if (url.pathname === '/bot_code') {
      // The bot id query, if that is how it came, must survive the redirect.
      res.writeHead(302, { location: `${BOT_CODE_PATH}${sha}${url.search}` }).end();
      return;
    }
    if (url.pathname === `${BOT_CODE_PATH}${sha}`) {
      const body = fake.mode === 'corrupt' ? zip.subarray(0, Math.floor(zip.length / 2)) : zip;
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
      return;
    }
    error(res, 404, 'not found');
  });

  const handshake = (): Record<string, unknown> => ({
    bot_version: sha,
    server_version: 'fake-swarming',
    ...(fake.injectedBotConfig === undefined
      ? {}
      : {
          bot_config: fake.injectedBotConfig,
          bot_config_name: 'bot_config.py',
          bot_config_rev: 'r1',
        }),
  });
  const poll = (body: object): Record<string, unknown> =>
    (body as { version?: unknown }).version === sha
      ? { cmd: 'sleep', duration: POLL_SLEEP_S }
      : { cmd: 'update', version: sha };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

function error(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
}

/** The request's JSON body; undefined when it is not JSON. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
