import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgentProcess, type AgentProcess, type LogLine } from '../rigs/agent-process.js';
import { startFakePhone, type FakePhone, type PhoneScript } from '../rigs/fake-adbd/index.js';
import { startFakeSwarming, type FakeSwarming } from '../rigs/fake-swarming.js';
import { buildTestBot } from '../rigs/test-bot.js';
import { waitFor } from '../rigs/test-bots.js';
import { startTokenServer, type TokenServer } from '../rigs/token-server.js';
import { ACTION } from '../rigs/health-texts.js';

/**
 * Issue 3 end to end: the real farm-agent program supervises its own real adb
 * server, which reaches two fake phones over TCP; one Swarming test bot runs
 * per slot with ANDROID_SERIAL, and its polls through the real bot_config.py
 * show the phone's dimensions and health as adb reports changes.
 */
const run = promisify(execFile);
const TOKEN = 'ya29.phones-token';

let zip: Buffer;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'phones-bot-'));
  zip = await readFile(await buildTestBot(join(dir, 'swarming_bot.zip')));
});

interface Rig {
  agent: AgentProcess;
  phones: FakePhone[];
  swarming: FakeSwarming;
}

const PIXEL: PhoneScript = {
  props: {
    'ro.build.id': 'TP1A.220624.014',
    'ro.build.version.incremental': '8877665',
    'ro.product.brand': 'google',
    'ro.product.system.brand': 'google',
    'ro.product.device': 'oriole',
    'ro.build.product': 'oriole',
    'ro.product.board': 'oriole',
    'ro.product.model': 'Pixel 6',
    'ro.build.type': 'userdebug',
  },
};

async function startRig(
  scripts: PhoneScript[] = [{}, PIXEL],
  env: Record<string, string> = {},
): Promise<Rig> {
  const phones = await Promise.all(scripts.map((script) => startFakePhone(script)));
  cleanups.push(() => Promise.all(phones.map((p) => p.close())));
  const swarming = await startFakeSwarming({ zip, token: TOKEN });
  cleanups.push(() => swarming.close());
  const tokens: TokenServer = await startTokenServer(() => ({
    body: { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' },
  }));
  cleanups.push(() => tokens.close());
  const dir = await mkdtemp(join(tmpdir(), 'phones-token-'));
  const tokenConfig = join(dir, 'token.json');
  await writeFile(tokenConfig, JSON.stringify({ url: tokens.url, headers: {} }));
  const agent = await startAgentProcess({
    FARM_NODE_NAME: 'pi-lab-7',
    FARM_SWARMING_SERVER: swarming.url,
    FARM_TOKEN_CONFIG: tokenConfig,
    FARM_ADB_TCP_DEVICES: phones.map((p) => p.serial).join(','),
    FARM_DEVICE_REFRESH: '1s',
    FARM_BOT_STOP_GRACE: '3s',
    TEST_POLL_S: '0.2',
    // The test bot's one on_before_task must not wait 10 minutes for a phone that cannot be ready.
    FARM_READY_TIMEOUT: '2s',
    FARM_POOL: 'Skia',
    ...env,
  });
  cleanups.push(() => agent.stop());
  return { agent, phones, swarming };
}

interface Poll {
  state: Record<string, unknown>;
  dimensions: Record<string, string[]>;
}

/** The newest poll a bot printed after `since` log lines. */
function lastPoll(agent: AgentProcess, botId: string, since = 0): Poll | undefined {
  const line = agent.logs
    .slice(since)
    .filter(
      (l: LogLine) => l.bot === botId && typeof l.msg === 'string' && l.msg.startsWith('poll '),
    )
    .at(-1);
  return line ? (JSON.parse(String(line.msg).slice(5)) as Poll) : undefined;
}

const botIdOf = (phone: FakePhone) => `pi-lab-7-${phone.serial.replace(/[.:]/g, '-')}`;

describe('farm-agent with phones over adb', () => {
  it('runs one bot per phone with its serial and reports each phone to Swarming', async () => {
    const { agent, phones, swarming } = await startRig();
    const [samsung, pixel] = phones as [FakePhone, FakePhone];

    for (const phone of phones) {
      await agent.waitForLog(
        (l) => l.bot === botIdOf(phone) && l.msg === `test bot serial ${phone.serial}`,
        20_000,
      );
    }
    // The bot code is downloaded once, in the name of a bot the server knows.
    const botIds = phones.map(botIdOf);
    expect(swarming.requests.filter((r) => r.path.startsWith('/bot_code'))).toHaveLength(1);
    for (const request of swarming.requests) {
      expect(botIds).toContain(request.headers['x-luci-swarming-bot-id']);
    }
    const samsungPoll = await waitFor('a ready poll from the Samsung bot', () => {
      const poll = lastPoll(agent, botIdOf(samsung));
      return poll?.dimensions.device_type ? poll : undefined;
    });
    expect(samsungPoll.dimensions).toMatchObject({
      id: [botIdOf(samsung)],
      pool: ['Skia'],
      android_devices: ['1'],
      device_os: ['Q', 'QP1A.190711.020', 'QP1A.190711.020_G980FXXU1ATB3'],
      device_os_flavor: ['samsung'],
      device_os_type: ['user'],
      device_type: ['x1s', 'exynos990'],
      os: ['Android'],
    });
    expect(samsungPoll.dimensions).not.toHaveProperty('quarantined');
    expect(samsungPoll.state).not.toHaveProperty('quarantined');
    expect(samsungPoll.state).not.toHaveProperty('maintenance');
    const pixelPoll = await waitFor('a poll from the Pixel bot', () => {
      const poll = lastPoll(agent, botIdOf(pixel));
      return poll?.dimensions.device_type ? poll : undefined;
    });
    expect(pixelPoll.dimensions).toMatchObject({
      device_os: ['T', 'TP1A.220624.014', 'TP1A.220624.014_8877665'],
      device_os_flavor: ['google'],
      device_os_type: ['userdebug'],
      device_type: ['oriole'],
    });

    // The CLI, as an operator runs it through kubectl exec.
    const cliEnv = {
      ...process.env,
      FARM_HTTP_PORT: new URL(agent.httpUrl).port,
      FARM_HOOK_PORT: new URL(agent.hookUrl).port,
      // The pod's environment: where the CLI finds the operator credential.
      FARM_STATE_DIR: agent.stateDir,
    };
    const devices = await run(process.execPath, ['agent/bin/farm-agent.js', 'devices'], {
      env: cliEnv,
    });
    expect(devices.stdout).toMatch(/^SLOT\s+BOT\s+SERIAL\s+MODEL\s+STATE/);
    expect(devices.stdout).toContain(`${botIdOf(pixel)}  ${pixel.serial}`);
    expect(devices.stdout).toMatch(/Pixel 6\s+ready/);
    const dims = await run(
      process.execPath,
      ['agent/bin/farm-agent.js', 'dims', botIdOf(samsung)],
      { env: cliEnv },
    );
    const view = JSON.parse(dims.stdout) as Record<string, { dimensions: unknown }>;
    expect(Object.keys(view)).toEqual([botIdOf(samsung)]);
    expect(view[botIdOf(samsung)]?.dimensions).toEqual(
      lastPoll(agent, botIdOf(samsung))?.dimensions,
    );
  });

  it('reflects a phone leaving adb in /status and the next get_dimensions at once', async () => {
    const { agent, phones } = await startRig();
    const [samsung] = phones as [FakePhone];
    const botId = botIdOf(samsung);
    await waitFor('the Samsung bot polling with its phone', () =>
      lastPoll(agent, botId)?.dimensions.device_type ? true : undefined,
    );

    const before = agent.logs.length;
    const unplugged = Date.now();
    await run('adb', ['-P', String(agent.adbPort), 'disconnect', samsung.serial]);
    const status = await waitFor('the slot missing in /status', async () => {
      const s = (await agent.getJson('/status')) as { slots: { botId: string; state: string }[] };
      return s.slots.find((x) => x.botId === botId && x.state === 'missing');
    });
    const statusMs = Date.now() - unplugged;
    expect(status).toMatchObject({ reason: 'Device "x1s" has gone missing' });
    const poll = await waitFor('a poll that shows the phone gone', () => {
      const p = lastPoll(agent, botId, before);
      return p?.dimensions.quarantined ? p : undefined;
    });
    const pollMs = Date.now() - unplugged;
    // Swarming's text: the reason as /status shows it, then what a person should do.
    const missing = `Device "x1s" has gone missing. ${ACTION.checkGone}`;
    expect(poll.dimensions.quarantined).toEqual([missing]);
    expect(poll.dimensions).not.toHaveProperty('device_type');
    expect(poll.state.quarantined).toBe(missing);
    // Event-driven: well inside one device refresh plus one bot poll.
    console.log(`phone gone → /status ${statusMs} ms, → bot's get_dimensions ${pollMs} ms`);

    // Plugged back: ready again with its dimensions.
    await run('adb', ['-P', String(agent.adbPort), 'connect', samsung.serial]);
    await waitFor('the phone back in the bot', () => {
      const p = lastPoll(agent, botId);
      return p?.dimensions.device_type && !p.dimensions.quarantined ? true : undefined;
    });
  });

  it('puts a phone with a flat battery into maintenance and back, without flapping', async () => {
    const { agent, phones } = await startRig();
    const [samsung] = phones as [FakePhone];
    const botId = botIdOf(samsung);
    await waitFor('the bot polling with its phone', () =>
      lastPoll(agent, botId)?.dimensions.device_type ? true : undefined,
    );
    samsung.state.battery.level = 22;
    const low = await waitFor('the bot in maintenance', () => {
      const p = lastPoll(agent, botId);
      return typeof p?.state.maintenance === 'string' ? p : undefined;
    });
    expect(low.state.maintenance).toMatch(/battery 22% < 30%/);
    // 32 % is above the entry threshold but below the resume one: still recovering.
    samsung.state.battery.level = 32;
    const since = agent.logs.length;
    await waitFor('two refreshes at 32 %', () => {
      const polls = agent.logs
        .slice(since)
        .filter((l) => l.bot === botId && String(l.msg).startsWith('poll '));
      return polls.length > 12 ? true : undefined;
    });
    expect(lastPoll(agent, botId)?.state.maintenance).toMatch(/battery/);
    // Charged, but at 33.1 °C it is still above the 33 °C resume threshold: recovery holds.
    samsung.state.battery.level = 80;
    await waitFor('the reason to become the temperature', () =>
      String(lastPoll(agent, botId)?.state.maintenance).includes('temperature 33.1 °C > 33 °C')
        ? true
        : undefined,
    );
    samsung.state.battery.temperature = 300;
    for (const reading of samsung.state.thermal) reading.value = 30;
    await waitFor('the bot out of maintenance', () => {
      const p = lastPoll(agent, botId);
      return p && p.state.maintenance === undefined ? true : undefined;
    });
  });

  it('sends a worn battery to maintenance, and shows its wear and charge control in /status', async () => {
    const worn: PhoneScript = {
      powerSupply: { charge_full: '2900000', charge_full_design: '4000000', cycle_count: '911' },
    };
    const { agent, phones } = await startRig([worn, PIXEL], { FARM_CHARGE_CONTROL: 'true' });
    const [samsung] = phones as [FakePhone];
    const botId = botIdOf(samsung);
    const poll = await waitFor('the bot in maintenance', () => {
      const p = lastPoll(agent, botId);
      return typeof p?.state.maintenance === 'string' ? p : undefined;
    });
    expect(poll.state.maintenance).toBe(
      `Battery worn: battery capacity 72.5% of design < 80%; replace the battery. ${ACTION.replaceBattery}`,
    );
    const status = (await agent.getJson('/status')) as { slots: Record<string, unknown>[] };
    expect(status.slots.find((slot) => slot.botId === botId)).toMatchObject({
      state: 'worn',
      worn: 'battery capacity 72.5% of design < 80%',
      battery: {
        health: 'good',
        powered: true,
        chargeCounterUah: 2902000,
        chargeFullUah: 2900000,
        chargeFullDesignUah: 4000000,
        capacityPercent: 72.5,
        cycleCount: 911,
      },
      // Network phones: no hub port for charge control to switch.
      charge: 'charge control unavailable: a network phone has no USB port to switch',
    });
  });

  it('reports unauthorized, offline, hung and overheating phones through the shim', async () => {
    const { agent, phones } = await startRig([
      { mode: 'unauthorized' },
      { mode: 'offline' },
      { hang: (command) => command === 'dumpsys battery' },
      { thermal: [{ name: 'CPU0', type: 0, value: 45.5, status: 0 }] },
    ]);
    const [unauthorized, offline, hung, hot] = phones as [
      FakePhone,
      FakePhone,
      FakePhone,
      FakePhone,
    ];
    const pollOf = (phone: FakePhone, check: (p: Poll) => boolean) =>
      waitFor(
        `a poll of ${phone.serial}`,
        () => {
          const p = lastPoll(agent, botIdOf(phone));
          return p && check(p) ? p : undefined;
        },
        20_000,
      );

    // A poll prints the dimensions of its get_dimensions and the state of the get_state after it.
    // adb lists the phone as offline until its handshake fails: a fast poll can see that first.
    const u = await pollOf(
      unauthorized,
      (p) =>
        /unauthorized/.test(String(p.state.quarantined)) && p.dimensions.quarantined !== undefined,
    );
    const unauthorizedText = `Device unauthorized: accept the RSA key on the phone. ${ACTION.acceptKey}`;
    expect(u.state.quarantined).toBe(unauthorizedText);
    expect(u.dimensions.quarantined).toEqual([unauthorizedText]);
    const o = await pollOf(offline, (p) => p.state.quarantined !== undefined);
    expect(o.state.quarantined).toBe(`Device offline. ${ACTION.waitOffline}`);
    // A command that never answers costs one reading, never the bot's hooks.
    const h = await pollOf(hung, (p) => p.dimensions.device_type !== undefined);
    expect(h.dimensions).not.toHaveProperty('quarantined');
    const t = await pollOf(hot, (p) => typeof p.state.maintenance === 'string');
    // Entered above 35 °C; once recovering, the reason names the 33 °C it must cool to.
    expect(
      [35, 33].map((c) => `Recovering: temperature 45.5 °C > ${c} °C. ${ACTION.waitRecovering}`),
    ).toContain(t.state.maintenance);
    expect(t.dimensions.device_type).toEqual(['x1s', 'exynos990']);

    // The RSA key accepted on the phone: the bot is released without a restart.
    unauthorized.mode = 'authorized';
    await run('adb', ['-P', String(agent.adbPort), 'reconnect', 'offline']).catch(() => undefined);
    await run('adb', ['-P', String(agent.adbPort), 'connect', unauthorized.serial]).catch(
      () => undefined,
    );
    await pollOf(
      unauthorized,
      (p) => p.state.quarantined === undefined && !!p.dimensions.device_type,
    );
  });

  it('survives its adb server being killed: restarted, phones reconnected, bots unharmed', async () => {
    const { agent, phones } = await startRig([{}]);
    const [phone] = phones as [FakePhone];
    const botId = botIdOf(phone);
    await waitFor('the bot polling with its phone', () =>
      lastPoll(agent, botId)?.dimensions.device_type ? true : undefined,
    );
    const adbPid = async () =>
      ((await agent.getJson('/status')) as { devices: { adbServer: { pid?: number } } }).devices
        .adbServer.pid;
    const first = await adbPid();
    expect(first).toEqual(expect.any(Number));
    process.kill(first as number, 'SIGKILL');
    const second = await waitFor('a new adb server', async () => {
      const pid = await adbPid();
      return pid !== undefined && pid !== first ? pid : undefined;
    });
    expect(second).not.toBe(first);
    const since = agent.logs.length;
    await waitFor('the phone back through the new server', () => {
      const p = lastPoll(agent, botId, since);
      return p?.dimensions.device_type && !p.dimensions.quarantined ? true : undefined;
    });
    const status = (await agent.getJson('/status')) as {
      swarming: { bots: { botId: string; restarts: number }[] };
    };
    expect(status.swarming.bots.find((b) => b.botId === botId)?.restarts).toBe(0);
  });

  it('reboots the phone after a task when asked, and holds the bot until it has booted', async () => {
    const { agent, phones } = await startRig([{ rebootAwayMs: 100, bootDelayMs: 1500 }], {
      FARM_REBOOT_AFTER_TASK: 'true',
    });
    const [phone] = phones as [FakePhone];
    const botId = botIdOf(phone);
    // The test bot runs on_before_task/on_after_task once at start: that is the task.
    await waitFor('the reboot to reach the phone', () =>
      phone.events.some((e) => e.type === 'open' && e.service.startsWith('reboot:'))
        ? true
        : undefined,
    );
    const booting = await waitFor('the bot held while the phone boots', () => {
      const p = lastPoll(agent, botId);
      return typeof p?.state.maintenance === 'string' ? p : undefined;
    });
    expect(booting.state.maintenance).toMatch(/boot/i);
    await waitFor(
      'the phone ready again',
      () => {
        const p = lastPoll(agent, botId);
        return p && p.state.maintenance === undefined && p.dimensions.device_type
          ? true
          : undefined;
      },
      20_000,
    );
  });

  it('takes operator maintenance and quarantine from the CLI to Swarming and back', async () => {
    const { agent, phones } = await startRig([{}]);
    const [phone] = phones as [FakePhone];
    const botId = botIdOf(phone);
    await waitFor('the bot polling with its phone', () =>
      lastPoll(agent, botId)?.dimensions.device_type ? true : undefined,
    );
    const cli = (...args: string[]) =>
      run(process.execPath, ['agent/bin/farm-agent.js', ...args], {
        env: {
          ...process.env,
          FARM_HTTP_PORT: new URL(agent.httpUrl).port,
          FARM_STATE_DIR: agent.stateDir,
        },
      });
    await cli('quarantine', botId, '--reason', 'cracked screen');
    await waitFor('the quarantine in the bot', () =>
      lastPoll(agent, botId)?.state.quarantined === 'cracked screen' ? true : undefined,
    );
    await cli('quarantine', botId, '--clear');
    await cli('maintenance', '--reason', 'rack rewiring');
    await waitFor('node-wide maintenance in the bot', () =>
      lastPoll(agent, botId)?.state.maintenance === 'rack rewiring' ? true : undefined,
    );
    await cli('maintenance', '--clear');
    await waitFor('the bot released', () => {
      const p = lastPoll(agent, botId);
      return p && p.state.quarantined === undefined && p.state.maintenance === undefined
        ? true
        : undefined;
    });
    await expect(cli('quarantine', 'no-such-slot')).rejects.toThrow(/no slot "no-such-slot"/);
  });

  it('shows a phone put to sleep with the screen action as asleep everywhere, and wakes it', async () => {
    const { agent, phones } = await startRig([PIXEL]);
    const [phone] = phones as [FakePhone];
    const botId = botIdOf(phone);
    await waitFor('the bot polling with its phone', () =>
      lastPoll(agent, botId)?.dimensions.device_type ? true : undefined,
    );
    const cliEnv = {
      ...process.env,
      FARM_HTTP_PORT: new URL(agent.httpUrl).port,
      FARM_STATE_DIR: agent.stateDir,
    };
    const cli = (...args: string[]) =>
      run(process.execPath, ['agent/bin/farm-agent.js', ...args], { env: cliEnv });
    type StatusSlot = { botId: string; state: string; reason?: string; adbState: string | null };
    const statusSlot = async () =>
      ((await agent.getJson('/status')) as { slots: StatusSlot[] }).slots.find(
        (s) => s.botId === botId,
      );
    const lifecycleSlot = async () =>
      (
        (await agent.getJson('/lifecycle')) as { slots: { botId: string; state: string }[] }
      ).slots.find((s) => s.botId === botId);

    // The default FARM_SLEEP_ACTION: KEYCODE_SLEEP; the phone stays listed by adb.
    await cli('sleep', botId);
    expect(await statusSlot()).toMatchObject({ state: 'asleep', adbState: 'device' });
    expect((await cli('devices')).stdout).toMatch(/Pixel 6\s+asleep/);
    expect(await lifecycleSlot()).toMatchObject({ state: 'asleep' });
    // Swarming: no maintenance and the phone's dimensions, so the next task still comes (and wakes it).
    const since = agent.logs.length;
    const poll = await waitFor('a poll after the sleep', () => lastPoll(agent, botId, since));
    expect(poll.state).not.toHaveProperty('maintenance');
    expect(poll.state).not.toHaveProperty('quarantined');
    expect(poll.dimensions.device_type).toEqual(['oriole']);

    await cli('wake', botId);
    await waitFor('the phone ready again', async () =>
      (await statusSlot())?.state === 'ready' ? true : undefined,
    );
    expect((await cli('devices')).stdout).toMatch(/Pixel 6\s+ready/);
    expect(await lifecycleSlot()).toMatchObject({ state: 'ready' });
  });
});
