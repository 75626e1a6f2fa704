/**
 * The hook server as a socket meets it: connections kept and closed, bodies cut short or too
 * large, answers that cannot be written. What each hook answers is in hook-server.test.ts.
 */
import { once } from 'node:events';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { schemaCheck } from './hook-checks.js';
import { HookServer, type HookRoute } from './hook-http.js';
import { HookMetrics } from './hook-metrics.js';
import { botHeaders } from './hook-schemas.js';

const BOT = 'bot-1';

let server: HookServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function listening(...routes: HookRoute[]): Promise<{ server: HookServer; port: number }> {
  server = new HookServer({
    routes: [
      { hook: 'healthz', methods: ['GET'], namesBot: false, answer: () => ({ ok: true }) },
      ...routes,
    ],
    headers: schemaCheck(botHeaders, 'headers'),
    knows: (botId) => botId === BOT,
    bodyLimit: 1024,
    logger: pino({ level: 'silent' }),
    metrics: new HookMetrics(),
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port: (server.server.address() as AddressInfo).port };
}

interface Answer {
  code: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(
  port: number,
  options: {
    method?: string;
    path: string;
    body?: string;
    headers?: Record<string, string>;
    agent?: Agent;
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        agent: options.agent,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject).end(options.body);
  });
}

describe('HookServer', () => {
  it('keeps a bot connection for 72 s between polls, as Fastify did', async () => {
    const { port } = await listening();
    const answer = await call(port, { path: '/healthz' });
    expect([answer.code, answer.body]).toStrictEqual([200, '{"ok":true}']);
    expect(answer.headers['keep-alive']).toBe('timeout=72');
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('closes at once with idle kept-alive connections open, and again once closed', async () => {
    const { server, port } = await listening();
    const agent = new Agent({ keepAlive: true });
    await call(port, { path: '/healthz', agent });
    expect(await new Promise((resolve) => server.server.getConnections((_, n) => resolve(n)))).toBe(
      1,
    );
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    agent.destroy();
    await expect(server.close()).resolves.toBeUndefined();
  });

  it('closes the connection after refusing a body it did not read, and only then', async () => {
    const { port } = await listening({
      hook: 'get_settings',
      methods: ['POST'],
      namesBot: false,
      answer: () => ({}),
    });
    const agent = new Agent({ keepAlive: true });
    /** A JSON POST on the kept-alive connection: its status and whether the server closes it. */
    const post = async (path: string, body: string) => {
      const headers = { 'content-type': 'application/json' };
      const answer = await call(port, { method: 'POST', path, body, headers, agent });
      return [answer.code, answer.headers.connection];
    };
    expect(await post('/healthz', '{}')).toStrictEqual([405, 'close']);
    expect(await post('/nowhere', JSON.stringify({ x: 'y'.repeat(2000) }))).toStrictEqual([
      404,
      'close',
    ]);
    const bodiless = await call(port, { method: 'GET', path: '/nowhere', agent });
    expect([bodiless.code, bodiless.headers.connection]).toStrictEqual([404, 'keep-alive']);
    expect(await post('/get_settings', 'not json')).toStrictEqual([400, 'keep-alive']);
    agent.destroy();
  });

  it('answers 500 with the reason for an answer it cannot write, and goes on serving', async () => {
    const { port } = await listening({
      hook: 'get_settings',
      methods: ['GET'],
      namesBot: false,
      answer: () => ({ size: 1n }),
    });
    const failed = await call(port, { path: '/get_settings' });
    expect([failed.code, JSON.parse(failed.body)]).toStrictEqual([
      500,
      { error: 'Do not know how to serialize a BigInt' },
    ]);
    expect((await call(port, { path: '/healthz' })).code).toBe(200);
  });

  it('survives callers that hang up mid-body, and keeps no connection of theirs', async () => {
    const answered: string[] = [];
    const { server, port } = await listening({
      hook: 'get_state',
      methods: ['POST'],
      namesBot: true,
      answer: ({ botId }) => {
        answered.push(botId);
        return {};
      },
    });
    for (let i = 0; i < 200; i++) {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(
        `POST /get_state HTTP/1.1\r\nHost: x\r\nX-Farm-Bot-Id: ${BOT}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a": ',
      );
      socket.destroy();
    }
    const ok = await call(port, {
      method: 'POST',
      path: '/get_state',
      body: '{}',
      headers: { 'content-type': 'application/json', 'x-farm-bot-id': BOT, connection: 'close' },
    });
    expect(ok.code).toBe(200);
    expect(answered).toStrictEqual([BOT]);
    await expect
      .poll(() => new Promise((resolve) => server.server.getConnections((_, n) => resolve(n))))
      .toBe(0);
  });
});
