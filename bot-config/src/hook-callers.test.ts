import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyDevices } from '../../test/rigs/ready-devices.js';
import { botProcessCheck, callerOf } from './hook-callers.js';
import { createHookServer, HookMetrics, type HookServer } from './hook-server.js';
import { childrenOf, parentPid, peerSocketInode } from './peer-process.js';

const BOT = 'pi-1-usb-1-1.3';

/**
 * A stand-in bot: at depth 0 it calls the hook itself, as bot_config.py does;
 * at depth n it runs itself at depth n-1, as the bot runs the sudo shim (1)
 * or a task's process runs sudo (2). Prints the HTTP status code it got.
 */
const CALLER = `
import subprocess, sys, urllib.error, urllib.request
url, hook, depth = sys.argv[1], sys.argv[2], int(sys.argv[3])
if depth > 0:
    sys.exit(subprocess.call([sys.executable, __file__, url, hook, str(depth - 1)]))
body = b'{"argv": ["reboot"]}' if hook == 'reboot_requested' else b'{}'
request = urllib.request.Request(url + '/' + hook, data=body, method='POST',
    headers={'Content-Type': 'application/json', 'X-Farm-Bot-Id': '${BOT}'})
try:
    print(urllib.request.urlopen(request, timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
`;

let script: string;
let app: HookServer;
let url: string;
/** The pid the agent believes runs BOT; each test points it at its own process. */
let botPid: number | undefined;
const reboots: string[] = [];

beforeAll(async () => {
  script = join(await mkdtemp(join(tmpdir(), 'hook-callers-')), 'caller.py');
  await writeFile(script, CALLER);
  const check = botProcessCheck((botId) => (botId === BOT ? botPid : undefined));
  app = createHookServer({
    devices: readyDevices([BOT]),
    botQuarantine: () => undefined,
    pool: 'android',
    settings: () => ({}),
    readyWaitMaxMs: 1000,
    onRebootRequested: (botId) => reboots.push(botId),
    authorizeCaller: (request, botId, hook) => check(request.socket, botId, callerOf(hook)),
    logger: pino({ level: 'silent' }),
    metrics: new HookMetrics(),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(() => app.close());

/** Runs the stand-in at `depth` as the bot (its top process is the bot's pid) and returns the code. */
function callAsBot(hook: string, depth: number): Promise<number> {
  const child = spawn('python3', [script, url, hook, String(depth)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  botPid = child.pid;
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => resolve(Number(out.trim())));
  });
}

describe('who may call a bot hook', () => {
  it("answers the bot's own process", async () => {
    expect(await callAsBot('get_state', 0)).toBe(200);
    expect(await callAsBot('on_after_task', 0)).toBe(400); // past the check, to the body schema
  });

  it("refuses the bot's children (a task) on the bot hooks", async () => {
    expect(await callAsBot('get_state', 1)).toBe(403);
    expect(await callAsBot('on_after_task', 1)).toBe(403);
  });

  it('takes reboot_requested from a direct child (the sudo shim), not from the bot or deeper', async () => {
    reboots.length = 0;
    expect(await callAsBot('reboot_requested', 1)).toBe(200);
    expect(await callAsBot('reboot_requested', 0)).toBe(403);
    // A task process running sudo is the bot's grandchild or further down.
    expect(await callAsBot('reboot_requested', 2)).toBe(403);
    expect(reboots).toEqual([BOT]);
  });

  it('refuses a caller when the named bot runs as another process, or not at all', async () => {
    const code = callAsBot('get_dimensions', 0);
    botPid = process.pid; // the server's side of the connection must not count as the caller
    expect(await code).toBe(403);
    const none = callAsBot('get_dimensions', 0);
    botPid = undefined;
    expect(await none).toBe(403);
  });

  it('gives an unknown or malformed id its own reason; a known one from another process 403', async () => {
    // Some live process that does not hold this test's connections.
    botPid = process.ppid;
    const post = async (botId: string, body = '{}') => {
      const res = await fetch(`${url}/get_state`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-farm-bot-id': botId },
        body,
      });
      return [res.status, ((await res.json()) as { error: string }).error];
    };
    expect(await post('pi-9-usb-1')).toEqual([404, 'no bot "pi-9-usb-1" runs on this node']);
    expect((await post('x'.repeat(257)))[0]).toBe(400);
    expect((await post('pi-1 usb-1'))[0]).toBe(400);
    const refused = [403, `the caller is not bot ${BOT}'s process (pid ${process.ppid})`];
    expect(await post(BOT)).toEqual(refused);
    // Checked before the body is read: a stranger learns nothing about what it sent.
    expect(await post(BOT, '{')).toEqual(refused);
  });

  it('leaves get_settings and healthz open: they are the same for everyone', async () => {
    botPid = undefined;
    expect((await fetch(`${url}/get_settings`)).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});

/** Two get_state calls on one kept-alive connection, the second after a line on stdin. */
const TWO_CALLS = `
import http.client, sys
connection = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]))
for _ in range(2):
    connection.request('POST', '/get_state', body=b'{}', headers={
        'Content-Type': 'application/json', 'X-Farm-Bot-Id': '${BOT}'})
    response = connection.getresponse()
    response.read()
    print(response.status, flush=True)
    sys.stdin.readline()
`;

describe('a kept-alive connection', () => {
  it('is checked again when the bot has another process', async () => {
    const { hostname, port } = new URL(url);
    const child = spawn('python3', ['-c', TWO_CALLS, hostname, port], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    botPid = child.pid;
    const codes: string[] = [];
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        codes.push(pending.slice(0, end));
        pending = pending.slice(end + 1);
        // The bot restarted: same connection, but its pid is no longer the bot's.
        botPid = process.pid;
        child.stdin.write('\n');
      }
    });
    await new Promise((resolve) => child.once('close', resolve));
    expect(codes).toEqual(['200', '403']);
  });
});

describe('procfs lookups', () => {
  it('read parent and children of a process', async () => {
    expect(await parentPid(process.pid)).toBe(process.ppid);
    expect(await childrenOf(process.ppid)).toContain(process.pid);
    expect(await parentPid(2 ** 22 + 1)).toBeUndefined();
  });

  it('find no socket for addresses that are not IPv4 or not connected', async () => {
    const local = { address: '127.0.0.1', port: 1 };
    expect(await peerSocketInode({ address: '::1', port: 1234 }, local)).toBeUndefined();
    expect(await peerSocketInode({ address: '127.0.0.1', port: 1 }, local)).toBeUndefined();
  });
});
