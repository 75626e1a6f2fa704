import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultState } from '../../../test/rigs/fake-adbd/shell.js';
import { FakeUhubctl } from '../../../test/rigs/fake-uhubctl.js';
import { ManualClock, settle } from '../../../test/rigs/manual-clock.js';
import { scriptedSlots, shellOf } from '../../../test/rigs/scripted-slots.js';
import { SlotBotDevices } from '../devices/slot-bot-devices.js';
import { PortPower, PowerRefused } from './port-power.js';
import { TaskPowerClaims } from './task-claims.js';

const BOT = 'pi-1-usb-1-1-3';
const PORT = { hub: '1-1', port: 3 };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'task-claims-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A phone on port 3 of a per-port hub, its bot's task ledger, and the port's owner. */
async function rig() {
  const clock = new ManualClock();
  const hub = new FakeUhubctl({ '1-1': 4 }, () => undefined, clock);
  const logger = pino({ level: 'silent' });
  const power = new PortPower({ run: hub.run, timeoutMs: 10_000, clock, logger });
  const running = new Set<string>();
  const { devices, manager } = scriptedSlots(dir, clock, {});
  await manager.start();
  const claims = new TaskPowerClaims({ power, taskRunning: (bot) => running.has(bot), logger });
  const botDevices = new SlotBotDevices(manager, clock, claims);
  devices.attach('R58N', { devicePath: 'usb:1-1.3', answer: shellOf(defaultState()) });
  await manager.idle();
  /** A recovery power cycle, its off time passed on the manual clock. */
  const cycled = async () => {
    const cycle = power.cycle(PORT, 'phone hung', 2_000).then(
      () => 'cycled',
      (error: unknown) => (error instanceof PowerRefused ? 'refused' : String(error)),
    );
    await settle();
    await settle();
    await clock.advance(2_000);
    return cycle;
  };
  /** What each would-be cutter gets now. */
  const cutters = async () => ({
    // Charge control's cut and sleep's are claims on the owner (battery/charge-port.ts, lifecycle/sleep-actions.ts).
    charge: (await power.hold(PORT, 'charge', 'top of band')).state,
    sleep: (await power.hold(PORT, 'sleep', 'asleep: idle')).state,
    cycle: await cycled(),
  });
  return { clock, hub, power, running, botDevices, cutters };
}

describe('a task claims its phone’s port', () => {
  it('refuses charge and sleep cuts and a recovery cycle while the task runs; released after it', async () => {
    const r = await rig();
    // The hook ledger knows the task before the slot is told (TaskDrain wraps the devices).
    r.running.add(BOT);
    await r.botDevices.taskStarted(BOT, { taskId: '5f3e' });
    expect(r.power.state(PORT)).toMatchObject({ holder: 'task', reason: 'task 5f3e running' });
    expect(await r.cutters()).toEqual({ charge: 'on', sleep: 'on', cycle: 'refused' });
    expect(r.hub.isOn('1-1', 3)).toBe(true);

    r.running.delete(BOT);
    await r.botDevices.taskEnded(BOT, { failure: false, internalFailure: false });
    await r.power.release(PORT, 'sleep');
    await r.power.release(PORT, 'charge');
    expect(r.power.state(PORT).holder).toBe('none');
    expect(await r.cutters()).toEqual({ charge: 'off', sleep: 'off', cycle: 'cycled' });
  });

  it('lapses when the bot exits without on_after_task', async () => {
    const r = await rig();
    r.running.add(BOT);
    await r.botDevices.taskStarted(BOT, {});
    expect(r.power.state(PORT)).toMatchObject({
      holder: 'task',
      reason: 'task (id not told) running',
    });
    // The bot's process died mid-task: the ledger forgets it, on_after_task never comes.
    r.running.delete(BOT);
    expect((await r.cutters()).charge).toBe('off');
    expect(r.hub.isOn('1-1', 3)).toBe(false);
  });
});
