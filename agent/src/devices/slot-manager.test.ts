import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultState } from '../../../test/rigs/fake-adbd/shell.js';
import { scriptedSlots, shellOf } from '../../../test/rigs/scripted-slots.js';
import { SlotManager } from './slot-manager.js';
import type { SlotManagerOptions } from './slot-manager.js';
import type { BotSlot, Slot } from './slot-state.js';
import { SlotStore } from './slot-store.js';
import { ManualClock, settle } from '../../../test/rigs/manual-clock.js';
import { ScriptedDevices } from '../../../test/rigs/scripted-devices.js';
import { ACTION } from '../../../test/rigs/health-texts.js';

const REFRESH_MS = 30_000;
const COMMAND_MS = 1_000;
const USB = 'usb:1-1.3';
const BOT = 'pi-1-usb-1-1-3';

/** Skia's dimensions for the rig's Galaxy S20 (QP1A.190711.020, x1s, exynos990). */
const S20_DIMENSIONS = {
  android_devices: ['1'],
  device_os: ['Q', 'QP1A.190711.020', 'QP1A.190711.020_G980FXXU1ATB3'],
  device_os_flavor: ['samsung'],
  device_os_type: ['user'],
  device_type: ['x1s', 'exynos990'],
  inside_docker: ['1', 'containerd'],
  os: ['Android'],
};
const NO_DEVICE = {
  android_devices: [],
  device_os: [],
  device_os_flavor: [],
  device_os_type: [],
  device_type: [],
  inside_docker: ['1', 'containerd'],
  os: [],
};
const MISSING = 'Device "x1s" has gone missing';
/** What Swarming shows for it: the reason, then what a person should do. */
const MISSING_TEXT = `${MISSING}. ${ACTION.checkGone}`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slot-manager-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rig(options: Partial<SlotManagerOptions> = {}) {
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock();
  const { devices, manager, registry } = scriptedSlots(dir, clock, {
    insideDocker: true,
    refreshIntervalMs: REFRESH_MS,
    timeouts: { commandMs: COMMAND_MS, getpropMs: 2 * COMMAND_MS },
    ...options,
  });
  const changes: Slot[] = [];
  const botLists: BotSlot[][] = [];
  manager.onSlotChanged((slot) => changes.push(slot));
  manager.onBotsChanged((bots) => botLists.push(bots));
  await manager.start();
  const plug = (
    serial: string,
    state = defaultState(),
    more: { type?: string; path?: string } = {},
  ) =>
    devices.attach(serial, {
      type: more.type ?? 'device',
      devicePath: 'path' in more ? more.path : USB,
      answer: shellOf(state),
    });
  const slot = (key = USB) => {
    const found = manager.slot(key);
    if (found === undefined) throw new Error(`no slot ${key}`);
    return found;
  };
  /** One refresh interval, and everything it started. */
  const tick = async () => {
    await clock.advance(REFRESH_MS);
    await manager.idle();
  };
  const metric = async (name: string, labels: Record<string, string>) => {
    // The slot series are set after the turn of the event loop that changed the slot.
    await new Promise((resolve) => setImmediate(resolve));
    const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };
  return { clock, devices, manager, changes, botLists, plug, slot, tick, metric };
}

describe('SlotManager', () => {
  it('attaches a phone: ready, with Skia’s dimensions, readings and metrics', async () => {
    const r = await rig();
    r.plug('R58N');
    await r.manager.idle();
    const slot = r.slot();
    expect(slot).toMatchObject({
      key: USB,
      name: 'usb-1-1-3',
      index: 0,
      botId: BOT,
      serial: 'R58N',
      adbState: 'device',
      dimensions: S20_DIMENSIONS,
      deviceTypes: ['x1s', 'exynos990'],
      temperatureC: 33.1,
      uptimeSeconds: 12345.67,
      bootCompleted: true,
      readingErrors: {},
      health: { state: 'ready', swarming: { ready: true } },
      taskRunning: false,
    });
    expect(slot.battery?.percent).toBe(85);
    expect(r.manager.bots()).toEqual([{ botId: BOT, slot: USB, serial: 'R58N' }]);
    expect(r.botLists).toEqual([[{ botId: BOT, slot: USB, serial: 'R58N' }]]);
    expect(await r.metric('farm_slot_state', { slot: 'usb-1-1-3', state: 'ready' })).toBe(1);
    expect(await r.metric('farm_device_battery_percent', { slot: 'usb-1-1-3' })).toBe(85);
    expect(await r.metric('farm_device_temperature_celsius', { slot: 'usb-1-1-3' })).toBe(33.1);
  });

  it('attaches the phones already listed at start', async () => {
    const clock = new ManualClock();
    const devices = new ScriptedDevices(clock);
    devices.attach('R58N', { devicePath: USB, answer: shellOf(defaultState()) });
    const logger = pino({ level: 'silent' });
    const manager = new SlotManager({
      io: devices,
      presence: devices,
      store: new SlotStore({ stateDir: dir, logger }),
      node: 'pi-1',
      botIdPattern: '{node}-{index}',
      insideDocker: false,
      logger,
      registry: new Registry(),
      clock,
    });
    await manager.start();
    await manager.idle();
    expect(manager.bots()).toEqual([{ botId: 'pi-1-0', slot: USB, serial: 'R58N' }]);
    expect(manager.slot(USB)?.health.state).toBe('ready');
  });

  it('reports a pulled phone missing at once, even with a command hanging', async () => {
    const r = await r0();
    r.devices.phone('R58N').hang.add('dumpsys battery');
    await r.clock.advance(REFRESH_MS);
    r.devices.detach('R58N');
    // No await: the change is applied in the presence callback itself.
    expect(r.slot()).toMatchObject({
      serial: 'R58N',
      dimensions: NO_DEVICE,
      health: { state: 'missing', swarming: { quarantined: MISSING_TEXT, ready: false } },
    });
    expect(r.slot().adbState).toBeUndefined();
    expect(r.slot().battery).toBeUndefined();
    expect(r.changes.at(-1)?.health.state).toBe('missing');
    await r.manager.idle();
    expect(r.slot().health.state).toBe('missing');
    expect(await r.metric('farm_slot_state', { slot: 'usb-1-1-3', state: 'missing' })).toBe(1);
    expect(
      await r.metric('farm_slot_state', { slot: 'usb-1-1-3', state: 'ready' }),
    ).toBeUndefined();
    expect(await r.metric('farm_device_battery_percent', { slot: 'usb-1-1-3' })).toBeUndefined();
  });

  it('gives the slot and its bot id to a new phone in the same port', async () => {
    const r = await r0();
    r.devices.detach('R58N');
    const pixel = defaultState();
    Object.assign(pixel.props, {
      'ro.build.id': 'SP1A.210812.016',
      'ro.build.version.incremental': '7671067',
      'ro.product.brand': 'google',
      'ro.product.system.brand': 'google',
      'ro.product.device': 'sargo',
      'ro.build.product': 'sargo',
      'ro.product.board': 'sargo',
    });
    r.plug('9A1X', pixel);
    await r.manager.idle();
    // Straight from missing to the new phone, with no passing state in between.
    expect(r.changes.slice(-3).map((s) => [s.serial, s.health.state])).toEqual([
      ['R58N', 'missing'],
      ['9A1X', 'booting'],
      ['9A1X', 'ready'],
    ]);
    expect(r.manager.slots()).toHaveLength(1);
    expect(r.slot()).toMatchObject({
      botId: BOT,
      serial: '9A1X',
      dimensions: {
        ...S20_DIMENSIONS,
        device_os: ['S', 'SP1A.210812.016', 'SP1A.210812.016_7671067'],
        device_os_flavor: ['google'],
        device_type: ['sargo'],
      },
      health: { state: 'ready' },
    });
    expect(r.botLists.at(-1)).toEqual([{ botId: BOT, slot: USB, serial: '9A1X' }]);
  });

  it('keys a TCP phone by its serial', async () => {
    const r = await rig();
    r.plug('10.0.0.5:5555', defaultState(), { path: undefined });
    await r.manager.idle();
    expect(r.manager.bots()).toEqual([
      { botId: 'pi-1-10-0-0-5-5555', slot: '10.0.0.5:5555', serial: '10.0.0.5:5555' },
    ]);
  });

  it('quarantines an unauthorized phone until it is allowed, then reads it', async () => {
    const r = await rig();
    r.plug('R58N', defaultState(), { type: 'unauthorized' });
    await r.manager.idle();
    expect(r.slot()).toMatchObject({
      adbState: 'unauthorized',
      dimensions: NO_DEVICE,
      health: {
        state: 'unauthorized',
        swarming: {
          quarantined: `Device unauthorized: accept the RSA key on the phone. ${ACTION.acceptKey}`,
        },
      },
    });
    expect(r.devices.calls).toEqual(['R58N get-devpath']);
    r.devices.setType('R58N', 'device');
    await r.manager.idle();
    expect(r.slot()).toMatchObject({ dimensions: S20_DIMENSIONS, health: { state: 'ready' } });
  });

  it('quarantines a phone gone offline and re-reads its properties when it is back', async () => {
    const r = await r0();
    r.devices.setType('R58N', 'offline');
    expect(r.slot()).toMatchObject({
      dimensions: S20_DIMENSIONS,
      health: {
        state: 'offline',
        swarming: { quarantined: `Device offline. ${ACTION.waitOffline}` },
      },
    });
    await r.tick();
    expect(r.slot().health.state).toBe('offline');
    r.devices.setType('R58N', 'device');
    await r.manager.idle();
    expect(r.slot().health.state).toBe('ready');
    expect(r.devices.calls.filter((c) => c === 'R58N getprop')).toHaveLength(2);
  });

  it('shows adb down on every slot at once, reads nothing meanwhile, reads again when back', async () => {
    const r = await r0();
    const down = 'adb server unreachable: Connection closed';
    r.devices.setServerProblem(down);
    expect(r.slot()).toMatchObject({
      adbState: 'device',
      health: {
        state: 'adb-down',
        reason: down,
        swarming: { maintenance: `${down}. ${ACTION.waitAdb}`, ready: false },
      },
    });
    expect(await r.metric('farm_slot_state', { slot: 'usb-1-1-3', state: 'adb-down' })).toBe(1);
    const asked = r.devices.calls.length;
    await r.tick();
    expect(r.devices.calls).toHaveLength(asked);
    expect(r.slot().health.state).toBe('adb-down');

    // Back: ready at once, read again without waiting for the next refresh.
    r.devices.setServerProblem(undefined);
    await r.manager.idle();
    expect(r.slot().health.state).toBe('ready');
    expect(r.devices.calls.slice(asked)).toContain('R58N dumpsys battery');
  });

  it('picks up a state change the tracker missed at the next refresh', async () => {
    const r = await r0();
    // Change the phone without telling the listeners, as a silent tracker would.
    r.devices.phone('R58N').type = 'offline';
    await r.tick();
    expect(r.slot().health.state).toBe('offline');
  });

  it('rests a phone on low battery and resumes it only past the resume threshold', async () => {
    const state = defaultState();
    state.thermal = [{ name: 'skin', type: 3, value: 25, status: 0 }];
    const r = await r0(state);
    const steps: [number, string, string | undefined][] = [
      [20, 'recovering', `Recovering: battery 20% < 30%. ${ACTION.waitRecovering}`],
      [32, 'recovering', `Recovering: battery 32% < 35%. ${ACTION.waitRecovering}`],
      [36, 'ready', undefined],
      [32, 'ready', undefined],
    ];
    for (const [level, expected, maintenance] of steps) {
      state.battery.level = level;
      await r.tick();
      expect([level, r.slot().health.state, r.slot().health.swarming.maintenance]).toEqual([
        level,
        expected,
        maintenance,
      ]);
    }
  });

  it('takes a phone whose battery wears out out of service until another phone takes the slot', async () => {
    const state = defaultState();
    const r = await r0(state);
    expect(r.slot().worn).toBeUndefined();
    // Hot while charging once: latched, though it cools again.
    state.battery.temperature = 472;
    await r.tick();
    const worn = 'battery 47.2 °C while charging > 45 °C';
    expect(r.slot()).toMatchObject({
      worn,
      health: {
        state: 'worn',
        swarming: {
          maintenance: `Battery worn: ${worn}; replace the battery. ${ACTION.replaceBattery}`,
          ready: false,
        },
      },
    });
    state.battery.temperature = 280;
    await r.tick();
    expect(r.slot().health.state).toBe('worn');
    // A fresh phone in the port is judged on its own battery (cool, past the heat's hysteresis).
    const fresh = defaultState();
    fresh.thermal = [{ name: 'skin', type: 3, value: 25, status: 0 }];
    r.devices.detach('R58N');
    r.plug('R58M', fresh);
    await r.manager.idle();
    expect(r.slot().health.state).toBe('ready');
    // The kernel's capacity figures count too.
    const faded = defaultState();
    faded.powerSupply.charge_full = '3000000';
    r.devices.detach('R58M');
    r.plug('R58K', faded);
    await r.manager.idle();
    expect(r.slot().worn).toBe('battery capacity 75% of design < 80%');
  });

  it('keeps the other readings when the battery command hangs', async () => {
    const state = defaultState();
    const r = await r0(state);
    state.thermal = [{ name: 'skin', type: 3, value: 40, status: 0 }];
    r.devices.phone('R58N').hang.add('dumpsys battery');
    await r.clock.advance(REFRESH_MS + COMMAND_MS);
    await r.manager.idle();
    expect(r.slot()).toMatchObject({
      readingErrors: {
        battery: 'battery unreadable: R58N: shell "dumpsys battery": no answer within 1000 ms',
      },
      temperatureC: 40,
      bootCompleted: true,
      health: { state: 'recovering', reason: 'Recovering: temperature 40 °C > 35 °C' },
    });
    expect(r.slot().battery).toBeUndefined();
  });

  it('holds a phone whose properties cannot be read out of tasks, and retries', async () => {
    const r = await rig();
    const phone = r.plug('R58N');
    phone.hang.add('getprop');
    // Let the attach reach getprop before time moves.
    await settle();
    await r.clock.advance(2 * COMMAND_MS);
    await r.manager.idle();
    expect(r.slot()).toMatchObject({
      dimensions: NO_DEVICE,
      health: {
        state: 'recovering',
        swarming: {
          maintenance: `Recovering: device properties unreadable: R58N: shell "getprop": no answer within 2000 ms. ${ACTION.waitRecovering}`,
          ready: false,
        },
      },
    });
    phone.hang.clear();
    await r.tick();
    expect(r.slot()).toMatchObject({ dimensions: S20_DIMENSIONS, health: { state: 'ready' } });
  });

  it('re-reads the properties of a phone whose uptime went back', async () => {
    const state = defaultState();
    const r = await r0(state);
    state.uptimeSeconds = 40;
    state.props['ro.build.id'] = 'QP1A.190711.021';
    await r.tick();
    expect(r.slot().dimensions.device_os).toContain('QP1A.190711.021');
    expect(r.devices.calls.filter((c) => c === 'R58N getprop')).toHaveLength(2);
  });

  it('tells listeners only about real changes', async () => {
    const state = defaultState();
    const r = await r0(state);
    const before = r.changes.length;
    state.uptimeSeconds += 30;
    await r.tick();
    expect(r.changes).toHaveLength(before);
    state.battery.level = 84;
    await r.tick();
    expect(r.changes).toHaveLength(before + 1);
  });

  it('applies operator overrides and powered-off', async () => {
    const r = await r0();
    r.manager.setOverride(USB, { quarantine: 'cracked screen' });
    expect(r.slot().health.swarming).toEqual({ quarantined: 'cracked screen', ready: false });
    r.manager.setOverride(USB, {});
    r.manager.setPoweredOff(USB, true);
    r.devices.detach('R58N');
    expect(r.slot()).toMatchObject({
      absentOnPurpose: 'powered-off',
      // An idle phone powered off keeps matching its tasks: the next one wakes it.
      dimensions: S20_DIMENSIONS,
      health: { state: 'asleep', swarming: { ready: false } },
    });
  });

  it('tells listeners of a task start and end before returning, and of nothing else', async () => {
    const r = await rig();
    r.plug('R58N');
    await r.manager.idle();
    r.changes.length = 0;
    // Power cuts, sleep, recovery and charge control must see the task at once.
    r.manager.taskStarted(USB);
    expect(r.changes.map((s) => [s.taskRunning, s.health.state])).toEqual([[true, 'busy']]);
    await r.tick();
    expect(r.changes).toHaveLength(1);
    const ended = r.manager.taskEnded(USB);
    expect(r.changes.map((s) => [s.taskRunning, s.health.state])).toEqual([
      [true, 'busy'],
      [false, 'ready'],
    ]);
    await ended;
    // Refreshes that read the same again (the uptime moves on) tell no one.
    await r.tick();
    await r.tick();
    expect(r.changes).toHaveLength(2);
  });

  it('reports each change after the turn that made it, in order, to the listeners of that change', async () => {
    const r = await r0();
    r.changes.length = 0;
    const reported: [string, boolean, string][] = [];
    const reporter = (who: string) => (s: Slot) =>
      reported.push([who, s.taskRunning, s.health.state]);
    const stopped = r.manager.onSlotReported(reporter('stopped'));
    r.manager.onSlotReported(reporter('kept'));
    r.manager.taskStarted(USB);
    const ended = r.manager.taskEnded(USB);
    // Subscribed after both changes: it reads the slots as they are, nothing is owed to it.
    r.manager.onSlotReported(reporter('late'));
    stopped();
    // A task hook answers in this turn: the reports have not run yet, the actors have (above).
    expect(reported).toEqual([]);
    expect(r.changes.map((s) => s.health.state)).toEqual(['busy', 'ready']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(reported).toEqual([
      ['kept', true, 'busy'],
      ['kept', false, 'ready'],
    ]);
    await ended;
    r.manager.taskStarted(USB);
    expect(await r.metric('farm_slot_state', { slot: 'usb-1-1-3', state: 'busy' })).toBe(1);
    expect(reported.slice(2).map(([who]) => who)).toEqual(['kept', 'late']);
  });

  describe('reboot after a task', () => {
    async function ranTask(state = defaultState()) {
      const r = await r0(state, { rebootAfterTask: true, rebootDeadlineMs: 120_000 });
      r.manager.taskStarted(USB);
      expect(r.slot().health.state).toBe('busy');
      await r.manager.taskEnded(USB);
      expect(r.devices.calls.at(-1)).toBe('R58N reboot');
      return r;
    }

    it('is booting, not missing, while away, and ready only once booted', async () => {
      const state = defaultState();
      const r = await ranTask(state);
      expect(r.slot()).toMatchObject({
        absentOnPurpose: 'rebooting',
        health: {
          state: 'booting',
          swarming: { maintenance: `Device booting. ${ACTION.waitBoot}` },
        },
      });
      // Still listed and answering with the old boot's boot_completed: not back yet.
      await r.tick();
      expect(r.slot().health.state).toBe('booting');
      r.devices.detach('R58N');
      expect(r.slot()).toMatchObject({
        dimensions: S20_DIMENSIONS,
        health: {
          state: 'booting',
          swarming: { maintenance: `Device rebooting. ${ACTION.waitBoot}` },
        },
      });
      state.bootCompleted = false;
      state.uptimeSeconds = 5;
      r.plug('R58N', state);
      await r.manager.idle();
      expect(r.slot().health.state).toBe('booting');
      state.bootCompleted = true;
      await r.tick();
      expect(r.slot().health.state).toBe('ready');
      expect(r.slot().absentOnPurpose).toBeUndefined();
    });

    it('counts a reboot seen only in the uptime', async () => {
      const state = defaultState();
      const r = await ranTask(state);
      state.uptimeSeconds = 20;
      await r.tick();
      expect(r.slot().health.state).toBe('ready');
    });

    it('reports a phone that never comes back missing, saying why', async () => {
      const r = await ranTask();
      r.devices.detach('R58N');
      await r.clock.advance(119_999);
      expect(r.slot().health.state).toBe('booting');
      await r.clock.advance(1);
      expect(r.slot()).toMatchObject({
        health: {
          state: 'missing',
          swarming: {
            quarantined: `${MISSING}: not back within 120 s of its reboot after a task. ${ACTION.checkGone}`,
          },
        },
      });
      expect(r.slot().absentOnPurpose).toBeUndefined();
    });

    it('quarantines a phone that comes back but never finishes booting', async () => {
      const state = defaultState();
      const r = await ranTask(state);
      r.devices.detach('R58N');
      state.bootCompleted = false;
      r.plug('R58N', state);
      await r.manager.idle();
      await r.clock.advance(120_000);
      await r.manager.idle();
      expect(r.slot().health.swarming).toEqual({
        quarantined: `Device not booted: not back within 120 s of its reboot after a task. ${ACTION.rebootByHand}`,
        ready: false,
      });
      state.bootCompleted = true;
      await r.tick();
      expect(r.slot().health.state).toBe('ready');
    });
  });

  describe('across restarts', () => {
    it('reports a phone that vanished while the agent was down as missing, same bot id', async () => {
      const first = await r0();
      await first.manager.stop();
      const second = await rig();
      expect(second.manager.bots()).toEqual([{ botId: BOT, slot: USB }]);
      expect(second.slot()).toMatchObject({
        dimensions: NO_DEVICE,
        health: { state: 'missing', swarming: { quarantined: MISSING_TEXT } },
      });
      second.plug('R58N');
      await second.manager.idle();
      expect(second.slot().health.state).toBe('ready');
    });

    it('starts without slots from a corrupt store, and still works', async () => {
      await writeFile(join(dir, 'slots.json'), '{"version": 1, "slots": [');
      const r = await rig();
      expect(r.manager.slots()).toEqual([]);
      r.plug('R58N');
      await r.manager.idle();
      expect(r.slot().health.state).toBe('ready');
      expect((await readdir(dir)).sort()).toEqual([
        'slots.json',
        expect.stringMatching(/^slots\.json\.corrupt-/) as string,
      ]);
    });

    it('keeps slot indexes, so `{index}` ids survive', async () => {
      const first = await rig({ botIdPattern: '{node}-{index}' });
      first.plug('A', defaultState(), { path: 'usb:1-1.1' });
      first.plug('B', defaultState(), { path: 'usb:1-1.2' });
      await first.manager.idle();
      await first.manager.stop();
      const second = await rig({ botIdPattern: '{node}-{index}' });
      second.plug('B', defaultState(), { path: 'usb:1-1.2' });
      await second.manager.idle();
      expect(second.manager.bots()).toEqual([
        { botId: 'pi-1-0', slot: 'usb:1-1.1' },
        { botId: 'pi-1-1', slot: 'usb:1-1.2', serial: 'B' },
      ]);
    });
  });

  it('refuses a bot id pattern that cannot give unique ids', () => {
    expect(
      () =>
        new SlotManager({
          io: new ScriptedDevices(new ManualClock()),
          presence: new ScriptedDevices(new ManualClock()),
          store: new SlotStore({ stateDir: dir, logger: pino({ level: 'silent' }) }),
          node: 'pi-1',
          botIdPattern: '{node}',
          insideDocker: false,
          logger: pino({ level: 'silent' }),
          registry: new Registry(),
        }),
    ).toThrow('must contain {node} and {slot} or {index}');
  });
});

/** A rig with the S20 attached in USB and ready. */
async function r0(state = defaultState(), options: Partial<SlotManagerOptions> = {}) {
  const r = await rig(options);
  r.plug('R58N', state);
  await r.manager.idle();
  expect(r.slot().health.state).toBe('ready');
  return r;
}
