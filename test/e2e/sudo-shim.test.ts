/**
 * The sudo shim end to end: a test bot runs `sudo ...` through subprocess, as
 * the real bot's host_reboot does, under the real supervisor with the shim
 * directory first on PATH; the agent side of /reboot_requested is a small real
 * HTTP server that records what arrives.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BotSupervisor } from '../../bot-config/src/supervisor.js';
import type { SupervisorEvent } from '../../bot-config/src/supervisor-events.js';
import { botLine, captureLogger, eventsOfType, rebootingBot, waitFor } from '../rigs/test-bots.js';
import type { LogRecord } from '../rigs/test-bots.js';
import { TEST_SUPERVISION } from '../rigs/supervision.js';

const shimDir = fileURLToPath(new URL('../../bot-config/shims', import.meta.url));
const botId = 'pi-7-slot-1';

interface RebootRequest {
  headers: IncomingHttpHeaders;
  body: { argv: string[]; ppid: number };
}

let dir: string;
let server: Server | undefined;
let supervisor: BotSupervisor | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sudo-shim-'));
});

afterEach(async () => {
  await supervisor?.stop();
  supervisor = undefined;
  if (server) await new Promise((resolve) => server?.close(resolve));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The agent's /reboot_requested, reduced to recording the call and calling expectRestart. */
async function startHookServer(requests: RebootRequest[]): Promise<string> {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RebootRequest['body'];
      requests.push({ headers: req.headers, body });
      if (req.method === 'POST' && req.url === '/reboot_requested') {
        supervisor?.expectRestart(`sudo ${body.argv.join(' ')}`, body.ppid);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function superviseRebootingBot(zip: string, hookUrl: string) {
  const events: SupervisorEvent[] = [];
  const { logger, records } = captureLogger();
  const registry = new Registry();
  supervisor = new BotSupervisor({
    botId,
    workDir: join(dir, 'work'),
    zip: async () => zip,
    shimDir,
    env: { FARM_HOOK_URL: hookUrl },
    logger,
    registry,
    ...TEST_SUPERVISION,
    restartBackoff: { initialMs: 50, maxMs: 50, jitter: 0 },
    crashes: { max: 5, windowMs: 60_000 },
    stopGraceMs: 1_000,
    onEvent: (e) => events.push(e),
  });
  supervisor.start();
  return { supervisor, events, records };
}

const shimSaid = (records: LogRecord[]) =>
  records.filter((r) => r.stream === 'stderr' && r.msg.startsWith('sudo (farm shim)'));

describe('sudo shim', () => {
  it('turns the bot reboot into an immediate restart, reported to the agent', async () => {
    const requests: RebootRequest[] = [];
    const hookUrl = await startHookServer(requests);
    const zip = await rebootingBot(join(dir, 'bot.zip'), [
      ['sudo', '-n', '/sbin/shutdown', '-f', '-r', 'now'],
    ]);
    const { events, records } = superviseRebootingBot(zip, hookUrl);

    await waitFor('the bot back after reboot', () => botLine(records, 'back after reboot'));
    const firstPid = eventsOfType(events, 'started')[0]?.pid;
    expect(requests).toHaveLength(1);
    expect(requests[0]?.body).toEqual({
      argv: ['-n', '/sbin/shutdown', '-f', '-r', 'now'],
      ppid: firstPid,
    });
    expect(requests[0]?.headers['x-farm-bot-id']).toBe(botId);
    expect(requests[0]?.headers['content-type']).toBe('application/json');
    expect(shimSaid(records).map((r) => r.msg)).toEqual([
      `sudo (farm shim): not running -n /sbin/shutdown -f -r now; restarting the Swarming bot (pid ${firstPid}) instead`,
    ]);
    // Killed inside subprocess.call: the bot never got past its sudo.
    expect(botLine(records, 'survived sudo')).toBeUndefined();
    expect(eventsOfType(events, 'exited')[0]?.exit).toMatchObject({
      code: null,
      signal: 'SIGKILL',
    });
    expect(eventsOfType(events, 'restart_scheduled')).toEqual([
      { type: 'restart_scheduled', botId, reason: 'reboot_requested', delayMs: 0 },
    ]);
    expect(supervisor?.status()).toMatchObject({ running: true, restarts: 1 });
  });

  it('never runs the command and still kills the bot when the agent is down', async () => {
    // A port that was just free: the POST is refused.
    const deadHookUrl = await startHookServer([]);
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    const marker = join(dir, 'must-not-exist');
    const zip = await rebootingBot(join(dir, 'bot.zip'), [['sudo', 'touch', marker]]);
    const { events, records } = superviseRebootingBot(zip, deadHookUrl);

    await waitFor('the bot back after reboot', () => botLine(records, 'back after reboot'));
    expect(existsSync(marker)).toBe(false);
    expect(shimSaid(records).map((r) => r.msg)).toEqual([
      expect.stringContaining(`not running touch ${marker}; restarting the Swarming bot`),
      expect.stringMatching(/could not tell the agent .*refused.*; killing the bot anyway/),
    ]);
    expect(eventsOfType(events, 'exited')[0]?.exit.signal).toBe('SIGKILL');
    // Nobody told the supervisor: the death counts as a crash and waits out the backoff.
    expect(eventsOfType(events, 'restart_scheduled')).toEqual([
      { type: 'restart_scheduled', botId, reason: 'crash', delayMs: 50 },
    ]);
  });

  it('leaves a person in kubectl exec alone: no bot id, no kill, no request', async () => {
    const requests: RebootRequest[] = [];
    const hookUrl = await startHookServer(requests);
    const env: NodeJS.ProcessEnv = { ...process.env, FARM_HOOK_URL: hookUrl };
    env.PATH = `${shimDir}:${process.env.PATH}`;
    delete env.SWARMING_BOT_ID;
    // The shell stands in for the person's shell: the shim's parent, which must survive.
    const { stdout, stderr } = await promisify(execFile)(
      'sh',
      ['-c', 'sudo reboot; echo "shell survived, sudo exited $?"'],
      { env },
    );
    expect(stdout).toBe('shell survived, sudo exited 1\n');
    expect(stderr).toBe('sudo (farm shim): not running reboot: there is no sudo in this image\n');
    expect(requests).toEqual([]);
  });
});
