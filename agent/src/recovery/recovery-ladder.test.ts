import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultState } from '../../../test/rigs/fake-adbd/shell.js';
import { FakeUhubctl } from '../../../test/rigs/fake-uhubctl.js';
import type { FakeHub } from '../../../test/rigs/fake-uhubctl.js';
import { ManualClock, settle } from '../../../test/rigs/manual-clock.js';
import { scriptedSlots, shellOf } from '../../../test/rigs/scripted-slots.js';
import type { ReportedEvent } from '../cluster/event-dedupe.js';
import { PortPower } from '../power/port-power.js';
import { RecoveryLadder } from './recovery-ladder.js';
import type { LadderSettings } from './recovery-ladder.js';
import { readUsbPresence } from './usb-sysfs.js';

const SERIAL = 'R58N';
const KEY = 'usb:1-1.3';
/** A network phone: its slot is its serial (adb get-devpath says `unknown`). */
const NETWORK = '192.168.1.20:5555';
const SETTINGS: LadderSettings = {
  graceMs: 60_000,
  bootGraceMs: 300_000,
  rungTimeoutMs: 180_000,
  cycleOffMs: 5_000,
  checkIntervalMs: 10_000,
  commandTimeoutMs: 15_000,
  budget: { failures: 3, windowMs: 600_000, coolOffMs: 1_200_000 },
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ladder-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface RigOptions {
  hub?: FakeHub;
  hygiene?: LadderSettings['hygiene'];
  uptimeSeconds?: number;
  /** Whether the slot runs a task, changed by the test. */
  task?: { running: boolean };
  /** What `adb reconnect offline` does to the phone. */
  reconnectFixes?: boolean;
  /** What `adb reboot` does: the phone comes back booted. */
  rebootFixes?: boolean;
  taskRunning?: boolean;
  /** The phone is on the network (adb over TCP), not on a hub port. */
  network?: boolean;
}

async function rig(options: RigOptions = {}) {
  const clock = new ManualClock();
  const { devices, manager, registry, logger } = scriptedSlots(dir, clock);
  const sysfs = join(dir, 'sys');
  const phone = defaultState();
  if (options.uptimeSeconds !== undefined) phone.uptimeSeconds = options.uptimeSeconds;
  const serial = options.network === true ? NETWORK : SERIAL;
  const key = options.network === true ? NETWORK : KEY;
  const plug = (type = 'device') => {
    devices.attach(serial, {
      devicePath: options.network === true ? 'unknown' : KEY,
      answer: shellOf(phone),
      type,
    });
  };
  const hub = new FakeUhubctl(
    { '1-1': options.hub ?? 4 },
    (_at, port, on) => {
      if (port !== 3) return;
      if (!on) devices.detach(SERIAL);
      else plug();
    },
    clock,
  );
  const power = new PortPower({ run: hub.run, timeoutMs: 10_000, clock, logger });
  const taken: string[] = [];
  const events: ReportedEvent[] = [];
  const ladder = new RecoveryLadder({
    slots: manager,
    actions: {
      async reconnect(which, tcp) {
        taken.push(`reconnect ${which} tcp=${tcp}`);
        if (options.reconnectFixes === true) devices.setType(serial, 'device');
      },
      async reboot(which) {
        taken.push(`reboot ${which}`);
        devices.detach(serial);
        phone.uptimeSeconds = 8.5;
        if (options.rebootFixes === true) plug();
      },
    },
    power,
    taskRunning: () => options.taskRunning === true || options.task?.running === true,
    readUsb: (key) => readUsbPresence(sysfs, key),
    settings: { ...SETTINGS, hygiene: options.hygiene },
    logger,
    registry,
    event: (event) => events.push(event),
    clock,
  });
  await manager.start();
  plug();
  await manager.idle();
  const slot = () => {
    const found = manager.slot(key);
    if (found === undefined) throw new Error('no slot');
    return found;
  };
  /** Time passes in check intervals, the ladder looking each time. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += SETTINGS.checkIntervalMs) {
      await clock.advance(SETTINGS.checkIntervalMs);
      await ladder.check();
      // Not manager.idle(): a hung command ends only when the clock moves on.
      await settle();
    }
  };
  const usb = async (present: boolean) => {
    await rm(join(sysfs, '1-1.3'), { recursive: true, force: true });
    if (!present) return;
    await mkdir(join(sysfs, '1-1.3'), { recursive: true });
    await writeFile(join(sysfs, '1-1.3', 'idVendor'), '04e8\n');
    await writeFile(join(sysfs, '1-1.3', 'idProduct'), '6860\n');
    await writeFile(join(sysfs, '1-1.3', 'serial'), `${SERIAL}\n`);
  };
  const metric = async (name: string) =>
    (await registry.getSingleMetric(name)?.get())?.values.map((v) => [v.labels, v.value]);
  return { clock, devices, manager, hub, ladder, taken, events, slot, run, usb, plug, metric };
}

describe('RecoveryLadder', () => {
  it('waits out the grace, then reconnects an offline phone and stops there', async () => {
    const r = await rig({ reconnectFixes: true });
    r.devices.setType(SERIAL, 'offline');
    await r.run(50_000);
    expect(r.taken).toEqual([]);
    expect(r.slot().health.state).toBe('offline');
    await r.run(20_000);
    expect(r.taken).toEqual([`reconnect ${SERIAL} tcp=false`]);
    expect(r.slot().health.state).toBe('ready');
    expect(r.hub.calls).toEqual([]);
    expect(r.events.map((e) => e.reason)).toEqual(['RecoveryStep', 'PhoneRecovered']);
    expect(r.events[1]?.note).toContain('back after adb reconnect offline');
    expect(await r.metric('farm_recovery_rungs_total')).toEqual([
      [{ rung: 'reconnect', outcome: 'worked' }, 1],
    ]);
  });

  it('climbs to a power cycle when reconnecting does nothing, and shows itself recovering meanwhile', async () => {
    const r = await rig();
    r.devices.setType(SERIAL, 'offline');
    await r.run(70_000);
    expect(r.slot().health).toMatchObject({
      state: 'recovering',
      diagnosis: 'adb lists it offline',
      swarming: { ready: false },
    });
    expect(r.slot().health.explanation).toContain('trying adb reconnect offline (step 1 of 2)');
    await r.run(190_000);
    expect(r.taken).toEqual([`reconnect ${SERIAL} tcp=false`]);
    expect(r.hub.calls.at(-1)).toEqual(['-l', '1-1', '-p', '3', '-a', 'cycle', '-d', '5']);
    expect(r.slot().health.state).toBe('ready');
    expect(r.events.map((e) => e.reason)).toEqual([
      'RecoveryStep',
      'RecoveryStep',
      'PhoneRecovered',
    ]);
  });

  it('reboots a phone whose commands time out', async () => {
    const r = await rig({ rebootFixes: true });
    r.devices.phone(SERIAL).hang.add('dumpsys battery');
    await r.run(50_000);
    expect(r.slot().readingErrors['battery']).toContain('no answer within');
    await r.run(80_000);
    expect(r.taken).toEqual([`reboot ${SERIAL}`]);
    expect(r.slot().health.state).toBe('ready');
  });

  it('quarantines a gone phone on a ganged hub: says what was tried, why, and what to do', async () => {
    const r = await rig({ hub: { ports: 4, switching: 'ganged' } });
    await r.usb(false);
    r.devices.detach(SERIAL);
    await r.run(10_000);
    // Before the ladder is done: missing, with the kernel's side of it.
    expect(r.slot().health).toMatchObject({
      state: 'missing',
      diagnosis: 'not on USB (cable, hub or power)',
    });
    expect(r.slot().health.reason).toBe(
      'Device "x1s" has gone missing: not on USB (cable, hub or power)',
    );
    await r.run(260_000);
    // The last step reads sysfs: real file I/O, not only promise turns.
    await vi.waitFor(() => expect(r.slot().health.state).toBe('quarantined'));
    const health = r.slot().health;
    expect(health.explanation).toContain('adb reconnect offline (not back within 180 s)');
    expect(health.explanation).toContain(
      'power cycle of its USB port (not possible: hub 1-1 [2109:2817 Fake USB2.0 Hub, USB 2.10, 4 ports, ganged] switches all its ports together',
    );
    expect(health.suggestedAction).toContain('Check the cable, the hub and its power supply');
    // Swarming: what was tried and why, when it is tried again (the manual clock started at
    // 22:13:20 UTC; the climb ended 4 min later, plus the 20-min cool-off), then what to do.
    expect(health.swarming.quarantined).toBe(
      `gone from adb: tried adb reconnect offline (not back within 180 s), power cycle of its USB port (not possible: hub 1-1 [2109:2817 Fake USB2.0 Hub, USB 2.10, 4 ports, ganged] switches all its ports together (ganged): cutting port 3 would cut every phone on it); the agent tries again at 22:37 UTC. Check the cable, the hub and its power supply, then replug the phone; a phone that does not power on may have a flat or swollen battery.`,
    );
    expect(r.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'RecoveryFailed' });
    // The phone is replugged by a person: the quarantine lifts by itself.
    r.plug();
    await r.run(10_000);
    expect(r.slot().health.state).toBe('ready');
  });

  it('never tries a power cycle on a network phone, and its quarantine says why and what to do', async () => {
    const r = await rig({ network: true });
    r.devices.setType(NETWORK, 'offline');
    await r.run(70_000);
    // One step only: there is no port to cycle, so none is announced.
    expect(r.slot().health.explanation).toBe('trying adb reconnect offline (step 1 of 1)');
    await r.run(190_000);
    expect(r.taken).toEqual([`reconnect ${NETWORK} tcp=true`]);
    expect(r.hub.calls).toEqual([]);
    const health = r.slot().health;
    expect(health).toMatchObject({
      state: 'quarantined',
      diagnosis: 'adb lists it offline',
      explanation: `tried adb reconnect offline (not back within 180 s); no power cycle: a network phone has no USB port to cycle; the agent tries again at 22:37 UTC`,
      suggestedAction:
        'Check that the phone is on the network at the same address and that adb over TCP is still on (a reboot turns it off unless set to persist); then adb connect it, or plug it in over USB.',
    });
    expect(health.swarming.quarantined).toBe(
      `${health.diagnosis}: ${health.explanation}. ${health.suggestedAction}`,
    );
    expect(r.events.map((e) => e.reason)).toEqual(['RecoveryStep', 'RecoveryFailed']);
    expect(r.events.at(-1)?.note).toBe(health.swarming.quarantined);
    expect(await r.metric('farm_recovery_rungs_total')).toEqual([
      [{ rung: 'reconnect', outcome: 'no-effect' }, 1],
    ]);
  });

  it('names a phone that is on USB but not in adb', async () => {
    const r = await rig();
    await r.usb(true);
    r.devices.detach(SERIAL);
    await r.run(10_000);
    expect(r.slot().health).toMatchObject({
      state: 'missing',
      diagnosis: 'on USB but not in adb',
      reason: 'Device "x1s" has gone missing: on USB but not in adb',
    });
    expect(r.slot().health.explanation).toContain('USB lists 04e8:6860 serial R58N on the port');
  });

  it('spends its budget on a flapping phone: out of service for the cool-off, then tried again', async () => {
    const r = await rig({ reconnectFixes: true });
    for (let flap = 0; flap < 2; flap++) {
      r.devices.setType(SERIAL, 'offline');
      await r.run(70_000);
      expect(r.slot().health.state).toBe('ready');
    }
    r.devices.setType(SERIAL, 'offline');
    await r.run(70_000);
    expect(r.taken).toHaveLength(2);
    expect(r.slot().health).toMatchObject({
      state: 'recovering',
      diagnosis: 'failing too often',
      swarming: { ready: false },
    });
    expect(r.events.at(-1)).toMatchObject({ reason: 'RecoveryBudgetSpent' });
    expect(await r.metric('farm_recovery_out_of_service')).toEqual([[{ slot: 'usb-1-1-3' }, 1]]);
    // Sitting out: nothing is tried for 20 minutes.
    await r.run(1_190_000);
    expect(r.taken).toHaveLength(2);
    await r.run(80_000);
    expect(r.taken).toHaveLength(3);
    expect(r.slot().health.state).toBe('ready');
  });

  it('never touches a phone while a task runs', async () => {
    const r = await rig({ taskRunning: true });
    r.devices.setType(SERIAL, 'offline');
    await r.run(600_000);
    expect(r.taken).toEqual([]);
    expect(r.hub.calls).toEqual([]);
    expect(r.slot().health.state).toBe('offline');
  });

  it('leaves an unauthorized phone to a person, and says what to do', async () => {
    const r = await rig();
    r.devices.setType(SERIAL, 'unauthorized');
    await r.run(600_000);
    expect(r.taken).toEqual([]);
    expect(r.slot().health).toMatchObject({
      state: 'unauthorized',
      diagnosis: 'unauthorized: accept the key on the phone, or the adb key was lost',
    });
    expect(r.slot().health.suggestedAction).toContain('tap "Allow"');
  });

  it('reboots an idle phone up longer than the limit, once, and never a busy one', async () => {
    const day = 24 * 3600;
    const task = { running: true };
    const r = await rig({
      hygiene: { maxUptimeMs: day * 1000, everyTasks: 0 },
      uptimeSeconds: day + 3600,
      rebootFixes: true,
      task,
    });
    await r.run(60_000);
    expect(r.taken).toEqual([]);
    task.running = false;
    await r.run(30_000);
    expect(r.taken).toEqual([`reboot ${SERIAL}`]);
    expect(r.events.map((e) => [e.reason, e.note])).toEqual([
      ['PreventiveReboot', 'up 25 h, longer than 24 h'],
    ]);
    await r.run(600_000);
    expect(r.taken).toHaveLength(1);
    expect(r.slot().health.state).toBe('ready');
  });

  it('reboots an idle phone after N tasks since it booted', async () => {
    const task = { running: false };
    const r = await rig({
      hygiene: { maxUptimeMs: 24 * 3600_000, everyTasks: 2 },
      rebootFixes: true,
      task,
    });
    for (let n = 0; n < 2; n++) {
      task.running = true;
      await r.run(20_000);
      task.running = false;
      await r.run(10_000);
    }
    expect(r.taken).toEqual([`reboot ${SERIAL}`]);
    expect(r.events[0]?.note).toBe('2 tasks since it booted');
  });
});
