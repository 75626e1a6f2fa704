import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { markedProcesses } from '../../test/rigs/bot-processes.js';
import { buildTestBot } from '../../test/rigs/test-bot.js';
import {
  botLine,
  captureLogger,
  eventsOfType,
  isAlive,
  waitFor,
  type LogRecord,
} from '../../test/rigs/test-bots.js';
import { treeName } from './process-tree.js';
import { BotSupervisor, type BotSupervisorOptions } from './supervisor.js';
import type { SupervisorEvent } from './supervisor-events.js';
import { TEST_SUPERVISION } from '../../test/rigs/supervision.js';

/**
 * The supervisor with the project's test bot, which runs tasks, ignores
 * SIGTERM during them and terminates like the real bot (test-bot/tasks.py).
 */
const BOT_ID = 'pi-1-slot-0';
let zip: string;
let dir: string;
let supervisors: BotSupervisor[];

beforeAll(async () => {
  zip = await buildTestBot(join(await mkdtemp(join(tmpdir(), 'tree-bot-')), 'swarming_bot.zip'));
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'supervisor-tree-'));
  supervisors = [];
});

afterEach(async () => {
  await Promise.all(supervisors.map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

function supervise(overrides: Partial<BotSupervisorOptions> = {}) {
  const events: SupervisorEvent[] = [];
  const { logger, records } = captureLogger();
  const registry = new Registry();
  const workDir = join(dir, 'work');
  const supervisor = new BotSupervisor({
    botId: BOT_ID,
    workDir,
    zip: async () => zip,
    shimDir: join(dir, 'shims'),
    // Nothing answers the hooks here: the shim gives up at once and the bot carries on.
    env: { FARM_HOOK_URL: 'http://127.0.0.1:9', FARM_READY_TIMEOUT_S: '0', TEST_POLL_S: '0.1' },
    logger,
    registry,
    ...TEST_SUPERVISION,
    restartBackoff: { initialMs: 20, maxMs: 20, jitter: 0 },
    terminatedRestartMs: 300,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  supervisors.push(supervisor);
  supervisor.start();
  return {
    supervisor,
    events,
    records,
    registry,
    workDir,
    tree: treeName(BOT_ID, resolve(workDir)),
  };
}

/** Makes the running test bot take a task; returns task_runner's and run_isolated's pids. */
async function runTask(records: LogRecord[], workDir: string, seconds: number) {
  const seen = records.length;
  const after = (prefix: string) => () => botLine(records.slice(seen), prefix) ?? undefined;
  await waitFor(
    'bot polling',
    () => botLine(records.slice(seen), 'poll ') ?? botLine(records, 'poll '),
  );
  await writeFile(join(workDir, 'run-task'), String(seconds));
  const runner = Number((await waitFor('task_runner', after('task_runner '))).msg.split(' ')[1]);
  const isolated = Number(
    (await waitFor('run_isolated', after('run_isolated '))).msg.split(' ')[1],
  );
  expect(isAlive(runner) && isAlive(isolated)).toBe(true);
  return { runner, isolated };
}

async function metric(registry: Registry, reason: string) {
  const values = (await registry.getSingleMetric('farm_bot_restarts_total')?.get())?.values ?? [];
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe.each([
  ['its cgroup', undefined],
  ['the /proc marker alone', null],
] as const)('BotSupervisor tracking the bot through %s', (_name, cgroupParent) => {
  it('leaves nothing of a crashed bot: its detached task processes die before the restart', async () => {
    const { supervisor, events, records, workDir, tree } = supervise({ cgroupParent });
    const { runner, isolated } = await runTask(records, workDir, 3600);
    const oldBot = supervisor.status().pid ?? 0;

    process.kill(oldBot, 'SIGKILL');
    const restarted = await waitFor('second start', () => eventsOfType(events, 'started')[1]);
    expect(isAlive(runner) || isAlive(isolated)).toBe(false);
    // Only the new bot is left of the tree (once python's launcher, e.g. pyenv's, has exec'd).
    const only = [restarted.pid];
    await waitFor('only the new bot', async () => {
      const listed = [await supervisor.processes(), markedProcesses(tree)];
      return listed.every((pids) => JSON.stringify(pids) === JSON.stringify(only));
    });
  });

  it('stops a bot busy with a task within the grace, with its whole tree', async () => {
    const { supervisor, records, workDir, tree } = supervise({ cgroupParent, stopGraceMs: 500 });
    const { runner, isolated } = await runTask(records, workDir, 3600);

    const began = Date.now();
    await supervisor.stop();
    // As the real bot: the SIGTERM is noted, the task carries on, only the grace ends it.
    expect(botLine(records, 'test bot got SIGTERM')).toBeDefined();
    expect(Date.now() - began).toBeGreaterThanOrEqual(500);
    expect(supervisor.status().lastExit).toMatchObject({ signal: 'SIGKILL' });
    expect([isAlive(runner), isAlive(isolated)]).toEqual([false, false]);
    expect(markedProcesses(tree)).toEqual([]);
  });
});

describe('BotSupervisor stopped while it starts a bot', () => {
  it('never leaves a bot running, whenever the stop lands', async () => {
    // The start has several waits (zip copy, the sweep for leftovers) before the spawn.
    for (let delayMs = 0; delayMs <= 120; delayMs += 10) {
      const { supervisor, tree } = supervise();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const stopped = await Promise.race([
        supervisor.stop().then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), 10_000)),
      ]);
      expect({ delayMs, stopped }).toEqual({ delayMs, stopped: true });
      expect(supervisor.status().running).toBe(false);
      expect(markedProcesses(tree)).toEqual([]);
    }
  });
});

describe('BotSupervisor and a bot that ends itself', () => {
  it('treats exit 0 (terminate) as a deliberate stop: calm restart, never a crash', async () => {
    const { supervisor, events, records, registry, workDir, tree } = supervise();
    // One more than the crash limit: as crashes these would quarantine the bot.
    for (let n = 1; n <= 4; n += 1) {
      await waitFor(`start ${n}`, () => eventsOfType(events, 'started')[n - 1]);
      await writeFile(join(workDir, 'terminate'), '');
      await waitFor(`restart ${n}`, () => eventsOfType(events, 'restart_scheduled')[n - 1]);
    }
    expect(eventsOfType(events, 'restart_scheduled').map((e) => [e.reason, e.delayMs])).toEqual(
      Array(4).fill(['terminated', 300]),
    );
    expect(eventsOfType(events, 'exited').map((e) => e.exit.code)).toEqual([0, 0, 0, 0]);
    expect(eventsOfType(events, 'quarantined')).toEqual([]);
    expect(supervisor.status().quarantined).toBeUndefined();
    await waitFor('fifth start', () => eventsOfType(events, 'started')[4]);
    expect(await metric(registry, 'terminated')).toBe(4);
    expect(await metric(registry, 'crash')).toBe(0);
    const ended = records.filter((r) => r.msg.startsWith('bot ended itself'));
    expect(ended).toHaveLength(4);
    expect(ended.every((r) => r.level === 30)).toBe(true);
    await waitFor('one bot process', () => markedProcesses(tree).length === 1);
  });

  it('still counts a non-zero exit as a crash', async () => {
    const { events } = supervise();
    await waitFor('start', () => eventsOfType(events, 'started')[0]);
    process.kill(eventsOfType(events, 'started')[0]?.pid ?? 0, 'SIGKILL');
    await waitFor('restart', () => eventsOfType(events, 'restart_scheduled')[0]);
    expect(eventsOfType(events, 'restart_scheduled')[0]).toMatchObject({ reason: 'crash' });
  });
});

describe("BotSupervisor and the bot's output", () => {
  it('logs python records at their level and the headless xrandr errors once', async () => {
    const { records } = supervise({
      env: {
        FARM_HOOK_URL: 'http://127.0.0.1:9',
        FARM_READY_TIMEOUT_S: '0',
        TEST_POLL_S: '0.05',
        TEST_HEADLESS: '1',
      },
    });
    await waitFor('five polls', () => records.filter((r) => r.msg.startsWith('poll ')).length >= 5);
    const real = botLine(records, 'test bot: a real error');
    expect(real).toMatchObject({ level: 50, stream: 'stderr', pid: expect.any(Number) });
    const xrandr = records.filter((r) => r.stream !== undefined && r.msg.includes('xrandr'));
    expect(xrandr).toHaveLength(1);
    expect(xrandr[0]).toMatchObject({ level: 40, noise: 'xrandr on a headless host' });
    expect(botLine(records, 'poll ')?.level).toBe(30);
  });
});
