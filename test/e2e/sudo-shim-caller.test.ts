/**
 * The sudo shim against the real hook server with the caller check: the bot's
 * own sudo (a direct child) restarts it at once; a task's sudo (deeper down)
 * is refused, with the agent's reason in the shim's words, and kills only its
 * own parent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { botProcessCheck, callerOf } from '../../bot-config/src/hook-callers.js';
import {
  createHookServer,
  HookMetrics,
  type HookServer,
} from '../../bot-config/src/hook-server.js';
import { BotSupervisor } from '../../bot-config/src/supervisor.js';
import type { SupervisorEvent } from '../../bot-config/src/supervisor-events.js';
import { readyDevices } from '../rigs/ready-devices.js';
import { botLine, captureLogger, eventsOfType, rebootingBot, waitFor } from '../rigs/test-bots.js';
import { TEST_SUPERVISION } from '../rigs/supervision.js';

const shimDir = fileURLToPath(new URL('../../bot-config/shims', import.meta.url));
const botId = 'pi-7-slot-2';
const REBOOT = ['sudo', '-n', '/sbin/shutdown', '-r', 'now'];

let dir: string;
let app: HookServer;
let supervisor: BotSupervisor;
const reported: number[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sudo-caller-'));
  reported.length = 0;
  const check = botProcessCheck((id) => (id === botId ? supervisor.status().pid : undefined));
  app = createHookServer({
    devices: readyDevices([botId]),
    botQuarantine: () => undefined,
    pool: 'android',
    settings: () => ({}),
    readyWaitMaxMs: 1000,
    onRebootRequested: (_id, argv, ppid) => {
      reported.push(ppid ?? 0);
      supervisor.expectRestart(`sudo ${argv.join(' ')}`, ppid);
    },
    authorizeCaller: (request, id, hook) => check(request.socket, id, callerOf(hook)),
    logger: pino({ level: 'silent' }),
    metrics: new HookMetrics(),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
});

afterEach(async () => {
  await supervisor.stop();
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

function supervise(zip: string) {
  const events: SupervisorEvent[] = [];
  const { logger, records } = captureLogger();
  supervisor = new BotSupervisor({
    botId,
    workDir: join(dir, 'work'),
    zip: async () => zip,
    shimDir,
    env: { FARM_HOOK_URL: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` },
    logger,
    registry: new Registry(),
    ...TEST_SUPERVISION,
    restartBackoff: { initialMs: 50, maxMs: 50, jitter: 0 },
    crashes: { max: 5, windowMs: 60_000 },
    stopGraceMs: 1_000,
    onEvent: (e) => events.push(e),
  });
  supervisor.start();
  return { events, records };
}

describe('the sudo shim and the caller check', () => {
  it("accepts the bot's own sudo: an immediate restart, not a crash", async () => {
    const { events, records } = supervise(await rebootingBot(join(dir, 'bot.zip'), [REBOOT]));
    await waitFor('the bot back after reboot', () => botLine(records, 'back after reboot'));
    expect(reported).toEqual([eventsOfType(events, 'started')[0]?.pid]);
    expect(eventsOfType(events, 'restart_scheduled')).toEqual([
      { type: 'restart_scheduled', botId, reason: 'reboot_requested', delayMs: 0 },
    ]);
  });

  it("refuses a task's sudo, which kills only its own parent", async () => {
    // A process between the bot and sudo stands for the task.
    const task = ['python3', '-c', 'import subprocess, sys; subprocess.call(sys.argv[1:])'];
    const { events, records } = supervise(
      await rebootingBot(join(dir, 'bot.zip'), [[...task, ...REBOOT]]),
    );
    await waitFor('the bot past its sudo', () => botLine(records, 'survived sudo'));
    expect(reported).toEqual([]);
    const refusal = records.find((r) => r.msg.includes('the agent refused'))?.msg;
    expect(refusal).toMatch(/HTTP 403: .*not a direct child of bot pi-7-slot-2's process/);
    expect(eventsOfType(events, 'exited')).toEqual([]);
  });
});
