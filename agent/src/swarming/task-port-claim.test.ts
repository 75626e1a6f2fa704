import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHookServer, HookMetrics, type HookServer } from '@farm-agent/bot-config';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { injectHook } from '../../../test/rigs/hook-inject.js';
import { defaultState } from '../../../test/rigs/fake-adbd/shell.js';
import { FakeUhubctl } from '../../../test/rigs/fake-uhubctl.js';
import { ManualClock, settle } from '../../../test/rigs/manual-clock.js';
import { scriptedSlots, shellOf } from '../../../test/rigs/scripted-slots.js';
import { OwnerChargePort } from '../battery/charge-port.js';
import { SlotBotDevices } from '../devices/slot-bot-devices.js';
import { PortPower, PowerRefused } from '../power/port-power.js';
import { TaskPowerClaims } from '../power/task-claims.js';
import { TaskDrain } from './drain.js';

const BOT = 'pi-1-usb-1-1-3';
const KEY = 'usb:1-1.3';
const PORT = { hub: '1-1', port: 3 };
const headers = { 'x-farm-bot-id': BOT };

let dir: string;
let app: HookServer | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'task-port-claim-'));
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The hook server over the drain's ledger over the slots, as the agent composes them. */
async function rig() {
  const clock = new ManualClock();
  const logger = pino({ level: 'silent' });
  const hub = new FakeUhubctl({ '1-1': 4 }, () => undefined, clock);
  const power = new PortPower({ run: hub.run, timeoutMs: 10_000, clock, logger });
  const { devices, manager } = scriptedSlots(dir, clock);
  await manager.start();
  devices.attach('R58N', { devicePath: KEY, answer: shellOf(defaultState()) });
  await manager.idle();
  const drain = new TaskDrain();
  const claims = new TaskPowerClaims({ power, taskRunning: (bot) => drain.runs(bot), logger });
  const server = createHookServer({
    devices: drain.botDevices(new SlotBotDevices(manager, clock, claims)),
    botQuarantine: () => undefined,
    pool: 'android',
    settings: () => ({}),
    readyWaitMaxMs: 1000,
    onRebootRequested: () => undefined,
    logger,
    metrics: new HookMetrics(),
  });
  app = server;
  const hook = async (url: string, payload: object) =>
    (await injectHook(server, { method: 'POST', url, headers, payload })).json() as unknown;
  const slot = () => {
    const found = manager.slot(KEY);
    if (found === undefined) throw new Error('no slot');
    return found;
  };
  const charge = new OwnerChargePort(power);
  /** A recovery power cycle, its off time passed on the manual clock. */
  const cycled = async () => {
    const cycle = power.cycle(PORT, 'phone hung', 1_000).then(
      () => 'cycled',
      (error: unknown) => (error instanceof PowerRefused ? 'refused' : String(error)),
    );
    await settle();
    await settle();
    await clock.advance(1_000);
    return cycle;
  };
  /** What charge control's cut, sleep's cut (a claim, as lifecycle/sleep-actions.ts puts it) and a recovery cycle get now. */
  const cutters = async () => ({
    charge: (await charge.cut(slot(), 'top of band')).kind,
    sleep: (await power.hold(PORT, 'sleep', 'asleep: idle')).state,
    cycle: await cycled(),
  });
  return { drain, power, hook, cutters, slot };
}

describe('a task’s claim on its phone’s port, through the hooks', () => {
  it('holds from on_before_task to on_after_task', async () => {
    const r = await rig();
    expect(await r.hook('/on_before_task', { task_id: '5f3e' })).toEqual({ ready: true });
    expect(r.power.state(PORT)).toMatchObject({ holder: 'task', reason: 'task 5f3e running' });
    expect(await r.cutters()).toEqual({ charge: 'held', sleep: 'on', cycle: 'refused' });
    expect(
      await r.hook('/on_after_task', { task_id: '5f3e', failure: false, internal_failure: false }),
    ).toEqual({ ok: true });
    // Released: the sleep's cut, claimed under the task, takes effect now.
    expect(r.power.state(PORT)).toMatchObject({ holder: 'sleep', state: 'off' });
    expect(await r.cutters()).toEqual({ charge: 'cut', sleep: 'off', cycle: 'cycled' });
  });

  it('answers a phone whose port is on at once, and the claim holds before anything else runs', async () => {
    const r = await rig();
    await r.power.readOnce(PORT);
    expect(r.power.state(PORT)).toMatchObject({ holder: 'none', state: 'on' });
    // The answer goes out first (bot-config's hook-server tests); the start follows in the turn.
    expect(await r.hook('/on_before_task', { task_id: '9c1d' })).toEqual({ ready: true });
    await settle();
    expect(r.power.state(PORT)).toMatchObject({ holder: 'task', reason: 'task 9c1d running' });
    expect(r.slot()).toMatchObject({ taskRunning: true, health: { state: 'busy' } });
    expect(await r.cutters()).toEqual({ charge: 'held', sleep: 'on', cycle: 'refused' });
  });

  it('answers the end at once when the port stays on, and the slot is idle before anything else runs', async () => {
    const r = await rig();
    await r.power.readOnce(PORT);
    await r.hook('/on_before_task', { task_id: '2a7f' });
    await settle();
    const end = { task_id: '2a7f', failure: false, internal_failure: false };
    expect(await r.hook('/on_after_task', end)).toEqual({ ok: true });
    await settle();
    expect(r.power.state(PORT)).toMatchObject({ holder: 'none', state: 'on' });
    expect(r.slot()).toMatchObject({ taskRunning: false, health: { state: 'ready' } });
  });

  it('lapses when the bot exits mid-task (as at the end of a drain), without on_after_task', async () => {
    const r = await rig();
    await r.hook('/on_before_task', { task_id: '77aa' });
    expect((await r.cutters()).charge).toBe('held');
    expect(r.power.state(PORT)).toMatchObject({ holder: 'task', state: 'on' });
    expect(r.slot()).toMatchObject({ taskRunning: true, health: { state: 'busy' } });
    r.drain.botExited(BOT, pino({ level: 'silent' }));
    await settle();
    // The slot no longer shows a task: not busy to Swarming, the gate or the lifecycle.
    expect(r.slot()).toMatchObject({ taskRunning: false, health: { state: 'ready' } });
    expect(await r.cutters()).toEqual({ charge: 'cut', sleep: 'off', cycle: 'cycled' });
  });
});
