import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PHONE_DIMENSIONS, defaultState } from '../../../test/rigs/fake-adbd/shell.js';
import { scriptedSlots, shellOf } from '../../../test/rigs/scripted-slots.js';
import type { PhoneState } from '../../../test/rigs/fake-adbd/shell.js';
import { SlotBotDevices } from './slot-bot-devices.js';
import type { BotSlot } from './slot-state.js';
import { ManualClock, settle } from '../../../test/rigs/manual-clock.js';
import { ACTION } from '../../../test/rigs/health-texts.js';

const BOT = 'pi-1-usb-1-1-3';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slot-bot-devices-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rig(rebootAfterTask = false) {
  const clock = new ManualClock();
  const { devices, manager } = scriptedSlots(dir, clock, { rebootAfterTask });
  await manager.start();
  const botDevices = new SlotBotDevices(manager, clock);
  const plug = (state: PhoneState) =>
    devices.attach('R58N', { devicePath: 'usb:1-1.3', answer: shellOf(state) });
  return { clock, devices, manager, botDevices, plug };
}

/** Tracks a promise's outcome without awaiting it. */
function watch<T>(promise: Promise<T>) {
  const seen: { value?: T } = {};
  void promise.then((value) => (seen.value = value));
  return seen;
}

describe('SlotBotDevices', () => {
  it('shows a ready phone’s dimensions, and a pulled one’s quarantine', async () => {
    const r = await rig();
    r.plug(defaultState());
    await r.manager.idle();
    expect(await r.botDevices.view(BOT)).toEqual({
      dimensions: DEFAULT_PHONE_DIMENSIONS,
      ready: true,
    });
    expect([r.botDevices.knows(BOT), r.botDevices.knows('pi-1-usb-9')]).toEqual([true, false]);
    r.devices.detach('R58N');
    // A pulled phone keeps its slot, so its bot can still be told why it is quarantined.
    expect(r.botDevices.knows(BOT)).toBe(true);
    expect(await r.botDevices.view(BOT)).toEqual({
      dimensions: {
        android_devices: [],
        device_os: [],
        device_os_flavor: [],
        device_os_type: [],
        device_type: [],
        inside_docker: [],
        os: [],
      },
      quarantined: `Device "x1s" has gone missing. ${ACTION.checkGone}`,
      ready: false,
    });
  });

  it('rejects a bot it has no slot for', async () => {
    const r = await rig();
    await expect(r.botDevices.view('someone-else')).rejects.toThrow(
      'no device slot is known for bot "someone-else"',
    );
    await expect(r.botDevices.whenReady('someone-else', 1_000)).rejects.toThrow('no device slot');
    await expect(r.botDevices.taskStarted('someone-else', {})).rejects.toThrow('no device slot');
  });

  it('lists one bot per slot and tells when the list changes', async () => {
    const r = await rig();
    const lists: BotSlot[][] = [];
    r.botDevices.onBotsChanged((bots) => lists.push(bots));
    r.plug(defaultState());
    await r.manager.idle();
    expect(r.botDevices.bots()).toEqual([{ botId: BOT, slot: 'usb:1-1.3', serial: 'R58N' }]);
    expect(lists).toEqual([r.botDevices.bots()]);
  });

  describe('whenReady', () => {
    it('resolves as soon as the phone has booted, not at a timeout', async () => {
      const state = defaultState();
      state.bootCompleted = false;
      const r = await rig();
      r.plug(state);
      await r.manager.idle();
      const ready = watch(r.botDevices.whenReady(BOT, 60_000));
      state.bootCompleted = true;
      await r.clock.advance(30_000);
      await r.manager.idle();
      await settle();
      expect(ready.value).toBe(true);
    });

    it('waits for a hot phone to cool below the resume temperature instead of failing the task', async () => {
      const state = defaultState();
      state.thermal = [];
      state.battery.temperature = 400; // 40 °C: above the 35 °C maximum
      const r = await rig();
      r.plug(state);
      await r.manager.idle();
      expect(r.manager.slot('usb:1-1.3')?.health.state).toBe('recovering');
      const ready = watch(r.botDevices.whenReady(BOT, 600_000));
      // 34 °C is under the maximum but not under the 33 °C resume temperature: still waiting.
      state.battery.temperature = 340;
      await r.clock.advance(30_000);
      await r.manager.idle();
      await settle();
      expect(ready.value).toBeUndefined();
      state.battery.temperature = 320;
      await r.clock.advance(30_000);
      await r.manager.idle();
      await settle();
      expect(ready.value).toBe(true);
    });

    it('is ready now exactly when it would not wait: ready or running the task', async () => {
      const state = defaultState();
      state.bootCompleted = false;
      const r = await rig();
      expect(r.botDevices.readyNow(BOT)).toBe(false);
      r.plug(state);
      await r.manager.idle();
      expect(r.botDevices.readyNow(BOT)).toBe(false);
      state.bootCompleted = true;
      await r.clock.advance(30_000);
      await r.manager.idle();
      expect(r.botDevices.readyNow(BOT)).toBe(true);
      await r.botDevices.taskStarted(BOT, {});
      expect(r.botDevices.readyNow(BOT)).toBe(true);
      r.manager.setAsleep('usb:1-1.3', true);
      expect(r.botDevices.readyNow(BOT)).toBe(false);
      expect(r.botDevices.readyNow('pi-1-usb-9')).toBe(false);
      r.manager.setAsleep('usb:1-1.3', false);
      // A port the task's claim would first have to switch: the answer waits for the claim.
      const claims = {
        startsAtOnce: () => false,
        endsAtOnce: () => true,
        started: async () => {},
        ended: async () => {},
      };
      expect(new SlotBotDevices(r.manager, r.clock).readyNow(BOT)).toBe(true);
      expect(new SlotBotDevices(r.manager, r.clock, claims).readyNow(BOT)).toBe(false);
    });

    it('ends at once unless a reboot follows the task or the port must be switched', async () => {
      const r = await rig();
      r.plug(defaultState());
      await r.manager.idle();
      expect(r.botDevices.endsAtOnce(BOT)).toBe(true);
      expect(r.botDevices.endsAtOnce('pi-1-usb-9')).toBe(false);
      const claims = { startsAtOnce: () => true, started: async () => {}, ended: async () => {} };
      const ends = (endsAtOnce: boolean) =>
        new SlotBotDevices(r.manager, r.clock, { ...claims, endsAtOnce: () => endsAtOnce });
      expect([ends(true).endsAtOnce(BOT), ends(false).endsAtOnce(BOT)]).toEqual([true, false]);
      await r.manager.stop();
      const rebooting = await rig(true);
      rebooting.plug(defaultState());
      await rebooting.manager.idle();
      expect(rebooting.botDevices.endsAtOnce(BOT)).toBe(false);
    });

    it('counts the task just reported started as no obstacle', async () => {
      const r = await rig();
      r.plug(defaultState());
      await r.manager.idle();
      await r.botDevices.taskStarted(BOT, { taskId: 't1' });
      expect((await r.botDevices.view(BOT)).ready).toBe(false);
      expect(await r.botDevices.whenReady(BOT, 1_000)).toBe(true);
    });

    it('answers false at the timeout', async () => {
      const r = await rig();
      r.plug(defaultState());
      await r.manager.idle();
      r.devices.detach('R58N');
      const ready = watch(r.botDevices.whenReady(BOT, 5_000));
      await r.clock.advance(4_999);
      expect(ready.value).toBeUndefined();
      await r.clock.advance(1);
      expect(ready.value).toBe(false);
    });

    it('answers false when the signal aborts', async () => {
      const r = await rig();
      r.plug(defaultState());
      await r.manager.idle();
      r.devices.detach('R58N');
      const abort = new AbortController();
      const ready = watch(r.botDevices.whenReady(BOT, 5_000, abort.signal));
      await settle();
      expect(ready.value).toBeUndefined();
      abort.abort();
      await settle();
      expect(ready.value).toBe(false);
      const aborted = new AbortController();
      aborted.abort();
      expect(await r.botDevices.whenReady(BOT, 5_000, aborted.signal)).toBe(false);
    });
  });

  it('reboots after a task when asked to, and the next task waits for the boot', async () => {
    const state = defaultState();
    const r = await rig(true);
    r.plug(state);
    await r.manager.idle();
    await r.botDevices.taskStarted(BOT, {});
    await r.botDevices.taskEnded(BOT, { failure: false, internalFailure: false });
    expect(r.devices.calls.at(-1)).toBe('R58N reboot');
    expect(await r.botDevices.view(BOT)).toMatchObject({
      maintenance: `Device booting. ${ACTION.waitBoot}`,
      ready: false,
    });
    await r.botDevices.taskStarted(BOT, {});
    const ready = watch(r.botDevices.whenReady(BOT, 600_000));
    r.devices.detach('R58N');
    state.uptimeSeconds = 3;
    r.plug(state);
    await r.manager.idle();
    await settle();
    expect(ready.value).toBe(true);
  });

  it('does not reboot after a task by default', async () => {
    const r = await rig();
    r.plug(defaultState());
    await r.manager.idle();
    await r.botDevices.taskStarted(BOT, {});
    expect((await r.botDevices.view(BOT)).ready).toBe(false);
    await r.botDevices.taskEnded(BOT, { failure: true, internalFailure: false });
    expect(r.devices.calls).not.toContain('R58N reboot');
    expect(await r.botDevices.view(BOT)).toMatchObject({ ready: true });
  });
});
