import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  botLine,
  captureLogger,
  eventsOfType,
  crashLoopBot,
  execingBot,
  isAlive,
  longRunningBot,
  printingBot,
  versionedBot,
  waitFor,
} from '../../test/rigs/test-bots.js';
import type { LogRecord } from '../../test/rigs/test-bots.js';
import { describeExit } from './bot-exit.js';
import { BotSupervisor } from './supervisor.js';
import type { BotSupervisorOptions } from './supervisor.js';
import type { SupervisorEvent } from './supervisor-events.js';
import { TEST_SUPERVISION } from '../../test/rigs/supervision.js';

let dir: string;
let supervisors: BotSupervisor[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'supervisor-'));
  supervisors = [];
});

afterEach(async () => {
  await Promise.all(supervisors.map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

interface Rig {
  supervisor: BotSupervisor;
  events: SupervisorEvent[];
  records: LogRecord[];
  registry: Registry;
  workDir: string;
}

function supervise(
  zip: BotSupervisorOptions['zip'],
  overrides: Partial<BotSupervisorOptions> = {},
): Rig {
  const events: SupervisorEvent[] = [];
  const { logger, records } = captureLogger();
  const registry = new Registry();
  const workDir = join(dir, 'work');
  const supervisor = new BotSupervisor({
    botId: 'pi-1-slot-0',
    workDir,
    zip,
    shimDir: join(dir, 'shims'),
    logger,
    registry,
    ...TEST_SUPERVISION,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  supervisors.push(supervisor);
  return { supervisor, events, records, registry, workDir };
}

async function metric(registry: Registry, name: string, labels: Record<string, string>) {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('BotSupervisor', () => {
  it('runs the bot from its workDir with the Swarming environment and logs its lines', async () => {
    const zip = await longRunningBot(join(dir, 'src.zip'));
    const { supervisor, events, records, registry, workDir } = supervise(async () => zip);
    supervisor.start();
    supervisor.start();

    const ready = await waitFor('ready line', () => botLine(records, 'ready'));
    const pid = eventsOfType(events, 'started')[0]?.pid;
    expect(ready).toMatchObject({ bot: 'pi-1-slot-0', stream: 'stdout' });
    expect(ready.msg).toBe(`ready ${pid} pi-1-slot-0 1`);
    expect(eventsOfType(events, 'started')).toHaveLength(1);
    expect(existsSync(join(workDir, 'swarming_bot.zip'))).toBe(true);
    expect(supervisor.status()).toMatchObject({ running: true, pid, restarts: 0 });
    expect(await metric(registry, 'farm_bot_up', { bot: 'pi-1-slot-0' })).toBe(1);

    await supervisor.stop();
    expect(botLine(records, 'got SIGTERM')).toBeDefined();
    expect(supervisor.status()).toMatchObject({
      running: false,
      pid: undefined,
      lastExit: { code: 0, signal: null },
    });
    expect(await metric(registry, 'farm_bot_up', { bot: 'pi-1-slot-0' })).toBe(0);
    expect(eventsOfType(events, 'restart_scheduled')).toEqual([]);
  });

  it('backs off a crash loop, quarantines it, and lifts the quarantine once it stays up', async () => {
    const zip = await crashLoopBot(join(dir, 'src.zip'), 4, 3);
    const { supervisor, events, records, registry } = supervise(async () => zip, {
      stableAfterMs: 2_500,
    });
    supervisor.start();

    await waitFor('up for good', () => botLine(records, 'up for good'));
    expect(eventsOfType(events, 'restart_scheduled').map((e) => [e.reason, e.delayMs])).toEqual([
      ['crash', 20],
      ['crash', 40],
      ['crash', 80],
      ['crash', 80],
    ]);
    const reason = 'bot crashed 3 times in 1m (last: exit code 3)';
    expect(eventsOfType(events, 'quarantined')).toEqual([
      { type: 'quarantined', botId: 'pi-1-slot-0', reason },
    ]);
    expect(supervisor.status()).toMatchObject({
      restarts: 4,
      quarantined: 'bot crashed 4 times in 1m (last: exit code 3)',
      lastExit: { code: 3, signal: null },
    });
    expect(await metric(registry, 'farm_bot_quarantined', { bot: 'pi-1-slot-0' })).toBe(1);
    // The unterminated last line of each crashed incarnation is flushed on exit.
    expect(botLine(records, 'dying without newline 4')).toMatchObject({ stream: 'stderr' });

    await waitFor('unquarantined', () => eventsOfType(events, 'unquarantined').length === 1);
    expect(supervisor.status().quarantined).toBeUndefined();
    expect(await metric(registry, 'farm_bot_quarantined', { bot: 'pi-1-slot-0' })).toBe(0);
    expect(await metric(registry, 'farm_bot_restarts_total', { reason: 'crash' })).toBe(4);
  });

  it('does not see a self-update execv as an exit and keeps logging the new incarnation', async () => {
    const zip = await execingBot(join(dir, 'src.zip'));
    const { supervisor, events, records, workDir } = supervise(async () => zip);
    supervisor.start();

    const second = await waitFor('incarnation 2', () => botLine(records, 'incarnation 2'));
    const first = botLine(records, 'incarnation 1');
    const pid = eventsOfType(events, 'started')[0]?.pid;
    expect(first?.msg).toBe(`incarnation 1 ${pid}`);
    expect(second).toMatchObject({ msg: `incarnation 2 ${pid}`, stream: 'stderr' });
    expect(existsSync(join(workDir, 'swarming_bot.1.zip'))).toBe(true);
    // Give a wrongly seen exit time to turn into a restart before asserting there was none.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events.map((e) => e.type)).toEqual(['started']);
    expect(supervisor.status()).toMatchObject({ running: true, pid, restarts: 0 });
  });

  it('restarts a bot that updated itself on its new code, not the host’s older zip', async () => {
    const v1 = await versionedBot(join(dir, 'v1.zip'), 'v1');
    const v2 = await versionedBot(join(dir, 'v2.zip'), 'v2');
    const { supervisor, records, events } = supervise(async () => v1, {
      env: { TEST_UPDATE_ZIP: v2 },
    });
    supervisor.start();
    const versions = () =>
      records.filter((r) => r.stream !== undefined && r.msg.startsWith('version '));
    // v1 updates itself in place (same pid), v2 crashes once, and the restart must run v2.
    await waitFor('the restart after the crash', () => versions().length >= 3 && versions());
    const [first, updated, restarted] = versions().map((r) => r.msg.split(' '));
    expect(first?.[1]).toBe('v1');
    expect(updated?.[1]).toBe('v2');
    expect(updated?.[2]).toBe(first?.[2]);
    expect(restarted?.[1]).toBe('v2');
    expect(eventsOfType(events, 'started')).toHaveLength(2);
  });

  it('reports a bot refused for its credentials once, until the server accepts it', async () => {
    const refused =
      '77 2026-08-20 10:00:01.123 E: Request to https://swarm.example/swarming/api/v1/bot/handshake failed with HTTP status code 401: missing credentials';
    const zip = await printingBot(join(dir, 'src.zip'), [refused, refused]);
    const { supervisor, records, events } = supervise(async () => zip);
    supervisor.start();
    await waitFor('the bot', () => botLine(records, 'printed'));
    expect(eventsOfType(events, 'auth_refused')).toEqual([
      { type: 'auth_refused', botId: 'pi-1-slot-0', reason: expect.stringContaining('HTTP 401') },
    ]);
    expect(supervisor.status().authRefused).toMatchObject({ status: 401, count: 2 });
    expect(records.filter((r) => r.level === 50 && r.msg.includes('HTTP 401'))).toHaveLength(1);

    supervisor.serverAccepted();
    supervisor.serverAccepted();
    expect(eventsOfType(events, 'auth_accepted')).toHaveLength(1);
    expect(supervisor.status().authRefused).toBeUndefined();
  });

  it('forwards SIGTERM, then SIGKILLs a bot that ignores it, with its process group', async () => {
    const zip = await longRunningBot(join(dir, 'src.zip'), {
      ignoreSigterm: true,
      grandchild: true,
    });
    const { supervisor, events, records } = supervise(async () => zip, { stopGraceMs: 300 });
    supervisor.start();
    await waitFor('ready line', () => botLine(records, 'ready'));
    const grandchild = Number(botLine(records, 'grandchild')?.msg.split(' ')[1]);
    expect(isAlive(grandchild)).toBe(true);

    const began = Date.now();
    await Promise.all([supervisor.stop(), supervisor.stop()]);
    expect(Date.now() - began).toBeGreaterThanOrEqual(300);
    expect(botLine(records, 'got SIGTERM')).toBeDefined();
    expect(supervisor.status()).toMatchObject({ running: false, lastExit: { signal: 'SIGKILL' } });
    await waitFor('grandchild gone', () => !isAlive(grandchild), 2_000);
    expect(eventsOfType(events, 'restart_scheduled')).toEqual([]);
    await supervisor.stop();
  });

  it('kills what a crashed bot left behind before restarting it', async () => {
    const zip = await longRunningBot(join(dir, 'src.zip'), { grandchild: true });
    const { supervisor, records } = supervise(async () => zip, {
      restartBackoff: { initialMs: 5_000, maxMs: 5_000 },
    });
    supervisor.start();
    await waitFor('ready line', () => botLine(records, 'ready'));
    const grandchild = Number(botLine(records, 'grandchild')?.msg.split(' ')[1]);
    const pid = supervisor.status().pid ?? 0;

    process.kill(pid, 'SIGSEGV');
    await waitFor('grandchild gone', () => !isAlive(grandchild), 2_000);
    expect(supervisor.status().lastExit).toMatchObject({ signal: 'SIGSEGV' });
  });

  it('restarts at once without counting a crash when the death was an expected reboot', async () => {
    const zip = await longRunningBot(join(dir, 'src.zip'));
    const { supervisor, events, records, registry } = supervise(async () => zip, {
      restartBackoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    supervisor.start();
    await waitFor('ready line', () => botLine(records, 'ready'));
    const pid = supervisor.status().pid ?? 0;

    // A sudo run by some other process (a task) names that process: not ours to expect.
    supervisor.expectRestart('sudo reboot', pid + 1);
    supervisor.expectRestart('sudo -n /sbin/shutdown -f -r now', pid);
    process.kill(pid, 'SIGKILL');

    await waitFor('second start', () => eventsOfType(events, 'started')[1]);
    expect(eventsOfType(events, 'restart_scheduled')).toEqual([
      { type: 'restart_scheduled', botId: 'pi-1-slot-0', reason: 'reboot_requested', delayMs: 0 },
    ]);
    expect(supervisor.status()).toMatchObject({ restarts: 1, lastExit: { signal: 'SIGKILL' } });
    expect(await metric(registry, 'farm_bot_restarts_total', { reason: 'reboot_requested' })).toBe(
      1,
    );
  });

  it('treats a death after a reboot request from another process as a crash', async () => {
    const zip = await longRunningBot(join(dir, 'src.zip'));
    const { supervisor, events, records } = supervise(async () => zip);
    supervisor.start();
    await waitFor('ready line', () => botLine(records, 'ready'));
    const pid = supervisor.status().pid ?? 0;

    supervisor.expectRestart('sudo reboot', pid + 1);
    process.kill(pid, 'SIGKILL');

    await waitFor('restart', () => eventsOfType(events, 'restart_scheduled')[0]);
    expect(eventsOfType(events, 'restart_scheduled')[0]).toMatchObject({
      reason: 'crash',
      delayMs: 20,
    });
  });

  it('stops at once while waiting to restart', async () => {
    const zip = await crashLoopBot(join(dir, 'src.zip'), 100);
    const { supervisor, events } = supervise(async () => zip, {
      restartBackoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    supervisor.start();
    await waitFor(
      'restart scheduled',
      () => eventsOfType(events, 'restart_scheduled').length === 1,
    );

    const began = Date.now();
    await supervisor.stop();
    expect(Date.now() - began).toBeLessThan(1_000);
    expect(eventsOfType(events, 'started')).toHaveLength(1);
    expect(() => supervisor.start()).toThrow(/stopped/);
  });

  it('retries a failing bot code download with backoff and never throws', async () => {
    const zip = await longRunningBot(join(dir, 'src.zip'));
    let calls = 0;
    const { supervisor, events, records } = supervise(async () => {
      calls += 1;
      if (calls < 3) throw new Error('swarming server unreachable');
      return zip;
    });
    supervisor.start();

    await waitFor('ready line', () => botLine(records, 'ready'));
    expect(eventsOfType(events, 'restart_scheduled').map((e) => [e.reason, e.delayMs])).toEqual([
      ['zip_unavailable', 20],
      ['zip_unavailable', 40],
    ]);
    expect(records.filter((r) => r.msg === 'bot code unavailable; will retry')).toHaveLength(2);
    // A broken download is not a bot crash and not a restart.
    expect(supervisor.status()).toMatchObject({ running: true, restarts: 0 });
  });

  it('does not wait for a hung download on stop', async () => {
    const { supervisor, events } = supervise(() => new Promise<string>(() => undefined));
    supervisor.start();
    await supervisor.stop();
    expect(events).toEqual([]);
  });

  it('survives a missing python, counting it as a crash', async () => {
    const zip = await longRunningBot(join(dir, 'src.zip'));
    const { supervisor, events } = supervise(async () => zip, {
      python: join(dir, 'no-such-python3'),
    });
    supervisor.start();

    await waitFor('quarantine', () => eventsOfType(events, 'quarantined')[0]);
    const exited = eventsOfType(events, 'exited');
    expect(exited.length).toBeGreaterThanOrEqual(3);
    expect(exited[0]?.pid).toBeUndefined();
    expect(exited[0]?.exit.error).toMatch(/ENOENT/);
    expect(eventsOfType(events, 'started')).toEqual([]);
    expect(supervisor.status().quarantined).toMatch(
      /^bot crashed 3 times in 1m \(last: spawn .*no-such-python3 ENOENT\)$/,
    );
  });

  it('caps very long output lines', async () => {
    const zip = await longRunningBot(join(dir, 'src.zip'), { longLine: 100_000 });
    const { supervisor, records } = supervise(async () => zip, { maxLineChars: 1_000 });
    supervisor.start();
    await waitFor('ready line', () => botLine(records, 'ready'));
    expect(botLine(records, 'xxx')).toMatchObject({ truncatedChars: 99_000 });
    expect(botLine(records, 'xxx')?.msg).toHaveLength(1_000);
  });

  it('keeps running when the event handler throws', async () => {
    const zip = await longRunningBot(join(dir, 'src.zip'));
    const { supervisor, records } = supervise(async () => zip, {
      onEvent: () => {
        throw new Error('handler bug');
      },
    });
    supervisor.start();
    await waitFor('ready line', () => botLine(records, 'ready'));
    expect(records.some((r) => r.msg === 'supervisor event handler threw')).toBe(true);
  });

  it('shares its metrics between supervisors on one registry', () => {
    const { registry, logger } = { registry: new Registry(), ...captureLogger() };
    const options = {
      workDir: dir,
      zip: async () => '',
      shimDir: dir,
      logger,
      registry,
      restartBackoff: { initialMs: 1, maxMs: 1 },
      crashes: { max: 1, windowMs: 1 },
      stableAfterMs: 1,
      stopGraceMs: 1,
      terminatedRestartMs: 1,
    };
    expect(() => {
      new BotSupervisor({ ...options, botId: 'a' });
      new BotSupervisor({ ...options, botId: 'b' });
    }).not.toThrow();
  });
});

describe('describeExit', () => {
  it.each([
    [{ code: 1, signal: null, at: 0 }, 'exit code 1'],
    [{ code: null, signal: 'SIGKILL', at: 0 }, 'signal SIGKILL'],
    [{ code: null, signal: null, at: 0, error: 'spawn python3 ENOENT' }, 'spawn python3 ENOENT'],
  ])('%o -> %s', (exit, text) => {
    expect(describeExit(exit)).toBe(text);
  });
});
