import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
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
}

export interface FakeSwarming {
  /** Base URL, no trailing slash. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  mode: FakeSwarmingMode;
  setZip(zip: Buffer): void;
  close(): Promise<void>;
}

export const BOT_CODE_PATH = '/swarming/api/v1/bot/bot_code/';

/**
 * A strict stand-in for the Swarming server's bot code endpoints: it rejects what the real one
 * rejects (no or wrong bearer token: 401; no bot id in header or query: 400) on both URLs.
 */
export async function startFakeSwarming(options: {
  zip: Buffer;
  token: string;
}): Promise<FakeSwarming> {
  let zip = options.zip;
  let sha = sha256(zip);
  const requests: RecordedRequest[] = [];
  const fake = {
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
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
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

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

function error(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
