import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultState } from '../../../test/rigs/fake-adbd/shell.js';
import { scriptedSlots, shellOf } from '../../../test/rigs/scripted-slots.js';
import type { PhoneState } from '../../../test/rigs/fake-adbd/shell.js';
import { SlotBotDevices } from '../devices/slot-bot-devices.js';
import { ManualClock } from '../../../test/rigs/manual-clock.js';
import { UnknownSlotError } from '../devices/slot-ref.js';
import { Lifecycle } from './lifecycle.js';
import type { LifecycleState } from './idle-counter.js';
import type { LifecycleEvent, LifecycleOptions } from './lifecycle-types.js';
import { FakeUhubctl } from '../../../test/rigs/fake-uhubctl.js';
import { wakingBotDevices } from './waking-bot-devices.js';

const INTERVAL = 60_000;
const LIMIT = 3;
/** Phone serial → USB port. */
const PORTS = { A: 'usb:1-1.1', B: 'usb:1-1.2' } as const;
type Serial = keyof typeof PORTS;

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
/** One /proc/net/tcp[6] row: addresses as the kernel prints them (hex, little-endian words). */
const row = (local: string, remote: string, st: string) =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 20 4 30 10 -1`;
/** 192.168.1.5:5037 ← 192.168.1.30:54321, a developer's adb client on the LAN. */
const EXTERNAL_5037 = row('0501A8C0:13AD', '1E01A8C0:D431', '01');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifecycle-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface RigOptions extends Partial<LifecycleOptions> {
  initial?: LifecycleState;
  phones?: Serial[];
  /** Where phones are plugged: a TCP phone has no USB path. */
  paths?: Partial<Record<Serial, string | undefined>>;
}

async function rig(options: RigOptions = {}) {
  const clock = new ManualClock();
  const { devices, manager, logger, registry } = scriptedSlots(dir, clock, {
    refreshIntervalMs: 30_000,
  });
  const phones = new Map<Serial, PhoneState>();
  const paths: Record<Serial, string | undefined> = { ...PORTS, ...options.paths };
  /** What each phone answers to `input keyevent ...`; '' is success. */
  const keyeventAnswer: Partial<Record<Serial, string>> = {};
  const plug = (serial: Serial) => {
    const state = phones.get(serial) ?? defaultState();
    phones.set(serial, state);
    devices.attach(serial, {
      devicePath: paths[serial],
      answer: (command) =>
        command.startsWith('input ') ? (keyeventAnswer[serial] ?? '') : shellOf(state)(command),
    });
  };
  // The hub takes a phone out of adb when its port goes off; `comesBack` decides if it returns.
  const comesBack = { value: true };
  const hub = new FakeUhubctl({ '1-1': 4 }, (location, port, on) => {
    const serial = (Object.keys(PORTS) as Serial[]).find(
      (s) => paths[s] === `usb:${location}.${port}`,
    );
    if (serial === undefined) return;
    if (!on) devices.detach(serial);
    else if (comesBack.value) plug(serial);
  });
  const tcp = join(dir, 'tcp');
  const tcp6 = join(dir, 'tcp6');
  const tables = async (v4: string[] = [], v6: string[] = []) => {
    await writeFile(tcp, [HEADER, ...v4, ''].join('\n'));
    await writeFile(tcp6, [HEADER, ...v6, ''].join('\n'));
  };
  await tables();
  await manager.start();
  for (const serial of options.phones ?? ['A', 'B']) plug(serial);
  await manager.idle();
  const lifecycle = new Lifecycle({
    manager,
    io: devices,
    action: 'screen',
    intervalMs: INTERVAL,
    idleChecks: LIMIT,
    tcpTables: [tcp, tcp6],
    run: hub.run,
    logger,
    registry,
    clock,
    ...options,
  });
  const events: LifecycleEvent[] = [];
  const changes: LifecycleState[] = [];
  lifecycle.onEvent((event) => events.push(event));
  lifecycle.onChange((state) => changes.push(state));
  lifecycle.start(options.initial);
  const key = (serial: Serial) => paths[serial] ?? serial;
  const slot = (serial: Serial) => {
    const found = manager.slot(key(serial));
    if (found === undefined) throw new Error(`no slot for ${serial}`);
    return found;
  };
  /** Idle counts by phone, and `z` for a sleeping one. */
  const counts = () =>
    Object.fromEntries(
      (Object.keys(PORTS) as Serial[]).flatMap((s) => {
        const state = lifecycle.snapshot()[key(s)];
        return state === undefined ? [] : [[s, state.asleep ? 'z' : state.idleChecks]];
      }),
    );
  const checks = async (n: number) => {
    for (let i = 0; i < n; i++) await lifecycle.check();
    await manager.idle();
  };
  const keyevents = () => devices.calls.filter((c) => c.includes('input keyevent'));
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };
  return {
    clock,
    devices,
    manager,
    lifecycle,
    hub,
    events,
    changes,
    tables,
    plug,
    keyeventAnswer,
    comesBack,
    slot,
    key,
    counts,
    checks,
    keyevents,
    metric,
    tcp,
  };
}

describe('Lifecycle idle checks', () => {
  it('counts idle checks and puts both phones to sleep with KEYCODE_SLEEP at the limit', async () => {
    const r = await rig();
    await r.checks(1);
    expect(r.counts()).toEqual({ A: 1, B: 1 });
    expect(await r.metric('farm_idle_checks', { slot: 'usb-1-1-1' })).toBe(1);
    await r.checks(1);
    expect(r.keyevents()).toEqual([]);
    await r.checks(1);
    expect(r.counts()).toEqual({ A: 'z', B: 'z' });
    expect(r.keyevents()).toEqual([
      'A input keyevent KEYCODE_SLEEP',
      'B input keyevent KEYCODE_SLEEP',
    ]);
    expect(r.events).toEqual([
      { type: 'slept', slot: PORTS.A, reason: 'idle-checks' },
      { type: 'slept', slot: PORTS.B, reason: 'idle-checks' },
    ]);
    expect(await r.metric('farm_slot_asleep', { slot: 'usb-1-1-2' })).toBe(1);
    expect(await r.metric('farm_sleeps_total', { reason: 'idle-checks' })).toBe(2);
    // Asleep is a resting state: no more counting, no more commands.
    await r.checks(2);
    expect(r.counts()).toEqual({ A: 'z', B: 'z' });
    expect(r.keyevents()).toHaveLength(2);
    // The screen is off but the phone is still in adb: it is asleep all the same,
    // for health, Swarming (not ready, no maintenance: the next task wakes it) and the wake view.
    expect(r.slot('A').health).toMatchObject({ state: 'asleep', swarming: { ready: false } });
    expect(r.slot('A').health.swarming).not.toHaveProperty('maintenance');
    expect(r.slot('A').health.swarming).not.toHaveProperty('quarantined');
    expect(r.lifecycle.slots().map((s) => [s.asleep, s.ready])).toEqual([
      [true, false],
      [true, false],
    ]);
  });

  it('tells the cluster side the whole state on each change, and only on change', async () => {
    const r = await rig();
    const awake = { idleChecks: 0, asleep: false };
    expect(r.changes).toEqual([{ [PORTS.A]: awake, [PORTS.B]: awake }]);
    // Active phones at zero stay at zero: nothing to write to the Lease.
    await r.tables([EXTERNAL_5037]);
    await r.checks(1);
    expect(r.changes).toHaveLength(1);
    await r.tables();
    await r.checks(1);
    const once = { idleChecks: 1, asleep: false };
    expect(r.changes).toEqual([
      { [PORTS.A]: awake, [PORTS.B]: awake },
      { [PORTS.A]: once, [PORTS.B]: once },
    ]);
  });

  it('runs a check every interval by itself once started', async () => {
    const r = await rig();
    await r.clock.advance(INTERVAL - 1);
    await r.lifecycle.idle();
    expect(r.counts()).toEqual({ A: 0, B: 0 });
    await r.clock.advance(1);
    await r.lifecycle.idle();
    expect(r.counts()).toEqual({ A: 1, B: 1 });
    await r.clock.advance(INTERVAL);
    await r.lifecycle.idle();
    expect(r.counts()).toEqual({ A: 2, B: 2 });
    await r.lifecycle.stop();
    await r.clock.advance(5 * INTERVAL);
    expect(r.counts()).toEqual({ A: 2, B: 2 });
  });

  it('keeps a phone running a task awake while the other one sleeps', async () => {
    const r = await rig();
    r.manager.taskStarted(r.key('A'));
    await r.checks(LIMIT);
    expect(r.counts()).toEqual({ A: 0, B: 'z' });
    expect(r.keyevents()).toEqual(['B input keyevent KEYCODE_SLEEP']);
  });

  it('never puts a slot the farm gate holds awake to sleep, and counts again once released', async () => {
    const held = new Set(['usb-1-1-1']);
    const r = await rig({ heldAwake: (slot) => held.has(slot.name) });
    await r.checks(LIMIT + 1);
    expect(r.counts()).toEqual({ A: 0, B: 'z' });
    expect(r.keyevents()).toEqual(['B input keyevent KEYCODE_SLEEP']);
    held.clear();
    await r.checks(1);
    expect(r.counts()).toEqual({ A: 1, B: 'z' });
  });

  it('resets every slot on an external adb connection, IPv4 or IPv6', async () => {
    const r = await rig();
    await r.checks(2);
    await r.tables([EXTERNAL_5037]);
    await r.checks(1);
    expect(r.counts()).toEqual({ A: 0, B: 0 });
    await r.tables();
    await r.checks(1);
    expect(r.counts()).toEqual({ A: 1, B: 1 });
    // 192.168.1.5:5555 ← 192.168.1.32, as the v4-mapped address of a dual-stack socket.
    await r.tables(
      [],
      [row('0000000000000000FFFF00000501A8C0:15B3', '0000000000000000FFFF00002001A8C0:C353', '01')],
    );
    await r.checks(1);
    expect(r.counts()).toEqual({ A: 0, B: 0 });
  });

  it.each([
    ['a loopback client', [row('0100007F:13AD', '0100007F:C350', '01')], []],
    ['a listening socket', [row('00000000:13AD', '00000000:0000', '0A')], []],
    ['a closed external connection', [row('0501A8C0:13AD', '1E01A8C0:D431', '06')], []],
    ['ssh from outside', [row('0501A8C0:0016', '1E01A8C0:D433', '01')], []],
    ['the agent reaching a network phone', [row('0501A8C0:D431', '1E01A8C0:15B3', '01')], []],
    [
      '::1',
      [],
      [row('00000000000000000000000001000000:13AD', '00000000000000000000000001000000:C351', '01')],
    ],
    [
      '::ffff:127.0.0.1',
      [],
      [row('0000000000000000FFFF00000501A8C0:15B3', '0000000000000000FFFF00000100007F:C352', '01')],
    ],
  ])('does not count %s as activity', async (_what, v4, v6) => {
    const r = await rig();
    await r.tables(v4, v6);
    await r.checks(1);
    expect(r.counts()).toEqual({ A: 1, B: 1 });
  });

  it('reads a missing tcp6 table as no connections, an unreadable table as activity', async () => {
    const r = await rig({ tcpTables: [join(dir, 'tcp'), join(dir, 'no-such-tcp6')] });
    await r.checks(1);
    expect(r.counts()).toEqual({ A: 1, B: 1 });
    const broken = await rig({ tcpTables: [join(dir, 'tcp'), dir] });
    await broken.checks(LIMIT);
    expect(broken.counts()).toEqual({ A: 0, B: 0 });
  });

  it('neither counts nor sleeps a phone that is not ready', async () => {
    const r = await rig();
    r.manager.setOverride(r.key('A'), { maintenance: 'reflashing' });
    await r.checks(LIMIT + 1);
    expect(r.counts()).toEqual({ A: 0, B: 'z' });
    expect(r.keyevents()).toEqual(['B input keyevent KEYCODE_SLEEP']);
  });

  it('restarts the count when the sleep action fails, and counts the failure', async () => {
    const r = await rig();
    r.keyeventAnswer.A = "Exception occurred while executing 'keyevent':\n";
    await r.checks(LIMIT);
    expect(r.counts()).toEqual({ A: 0, B: 'z' });
    expect(await r.metric('farm_sleep_failures_total')).toBe(1);
    expect(r.events).toEqual([{ type: 'slept', slot: PORTS.B, reason: 'idle-checks' }]);
    delete r.keyeventAnswer.A;
    await r.checks(LIMIT);
    expect(r.counts()).toEqual({ A: 'z', B: 'z' });
  });

  it('with action none only keeps the state', async () => {
    const r = await rig({ action: 'none' });
    await r.checks(LIMIT);
    expect(r.counts()).toEqual({ A: 'z', B: 'z' });
    await r.lifecycle.wake();
    expect(r.counts()).toEqual({ A: 0, B: 0 });
    expect(r.keyevents()).toEqual([]);
    expect(r.hub.calls).toEqual([]);
  });
});

describe('Lifecycle wake and operator sleep', () => {
  it('wakes sleeping phones with KEYCODE_WAKEUP, ready at once, and holds them awake', async () => {
    const r = await rig();
    await r.checks(LIMIT);
    expect(await r.lifecycle.wake()).toEqual({ woke: [PORTS.A, PORTS.B], ready: true });
    expect(r.keyevents().slice(2)).toEqual([
      'A input keyevent KEYCODE_WAKEUP',
      'B input keyevent KEYCODE_WAKEUP',
    ]);
    expect(r.events.slice(2)).toEqual([
      { type: 'woke', slot: PORTS.A, reason: 'operator' },
      { type: 'woke', slot: PORTS.B, reason: 'operator' },
    ]);
    expect(await r.metric('farm_wakes_total', { reason: 'operator' })).toBe(2);
    // Checks by hand from here, at chosen times.
    await r.lifecycle.stop();
    // Woken just now: a check within the hold (one interval) counts the phones as active.
    await r.clock.advance(INTERVAL - 1);
    await r.checks(1);
    expect(r.counts()).toEqual({ A: 0, B: 0 });
    await r.clock.advance(1);
    await r.checks(1);
    expect(r.counts()).toEqual({ A: 1, B: 1 });
    // Waking awake phones sends nothing: only the count restarts.
    expect(await r.lifecycle.wake(PORTS.A)).toEqual({ woke: [], ready: true });
    expect(r.counts()).toEqual({ A: 0, B: 1 });
    expect(r.keyevents()).toHaveLength(4);
  });

  it('finds a slot by key, name or bot id, and names the known ones otherwise', async () => {
    const r = await rig({ action: 'none' });
    await r.checks(LIMIT);
    expect((await r.lifecycle.wake('usb-1-1-1')).woke).toEqual([PORTS.A]);
    expect((await r.lifecycle.wake('pi-1-usb-1-1-2')).woke).toEqual([PORTS.B]);
    await expect(r.lifecycle.wake('usb-9')).rejects.toThrow(
      new UnknownSlotError('usb-9', ['usb-1-1-1', 'usb-1-1-2']),
    );
  });

  it('sleeps ready phones on an operator command and says why it leaves others awake', async () => {
    const r = await rig();
    r.manager.taskStarted(r.key('A'));
    expect(await r.lifecycle.sleep()).toEqual({
      slept: [PORTS.B],
      skipped: [{ slot: PORTS.A, reason: 'not ready (busy)' }],
    });
    expect(await r.lifecycle.sleep(PORTS.B)).toEqual({
      slept: [],
      skipped: [{ slot: PORTS.B, reason: 'already asleep' }],
    });
    expect(r.events).toEqual([{ type: 'slept', slot: PORTS.B, reason: 'operator' }]);
  });

  it('wakes a sleeping slot before a task and resolves once it is ready', async () => {
    const r = await rig({ action: 'usb-power' });
    await r.lifecycle.sleep(PORTS.A);
    expect(r.slot('A').health.state).toBe('asleep');
    // As on_before_task asks, through what the hook server is given.
    const devices = wakingBotDevices(new SlotBotDevices(r.manager, r.clock), r.lifecycle);
    expect(await devices.whenReady('pi-1-usb-1-1-1', 30_000)).toBe(true);
    expect(r.events.at(-1)).toEqual({ type: 'woke', slot: PORTS.A, reason: 'task' });
    expect(await r.metric('farm_wakes_total', { reason: 'task' })).toBe(1);
    expect(r.slot('A').health.state).toBe('ready');
  });

  it('wakes a screen-slept phone before a task: asleep until then, ready after', async () => {
    const r = await rig();
    await r.lifecycle.sleep(PORTS.A);
    const devices = wakingBotDevices(new SlotBotDevices(r.manager, r.clock), r.lifecycle);
    expect(await devices.view('pi-1-usb-1-1-1')).toMatchObject({ ready: false });
    expect(await devices.whenReady('pi-1-usb-1-1-1', 30_000)).toBe(true);
    expect(r.keyevents().at(-1)).toBe('A input keyevent KEYCODE_WAKEUP');
    expect(r.slot('A').health.state).toBe('ready');
    expect(await devices.view('pi-1-usb-1-1-1')).toMatchObject({ ready: true });
  });

  it('gives up waiting for a phone that does not come back at the timeout', async () => {
    const r = await rig({ action: 'usb-power' });
    await r.lifecycle.sleep(PORTS.A);
    r.comesBack.value = false;
    let answer: boolean | undefined;
    void r.lifecycle.whenAwakeAndReady(PORTS.A, 30_000).then((ready) => (answer = ready));
    await r.lifecycle.idle();
    await r.clock.advance(29_999);
    expect(answer).toBeUndefined();
    await r.clock.advance(1);
    expect(answer).toBe(false);
  });
});

describe('Lifecycle with usb-power', () => {
  it('cuts the port with uhubctl: the phone leaves adb asleep, not missing, and comes back on wake', async () => {
    const r = await rig({ action: 'usb-power' });
    await r.checks(LIMIT);
    // Through the power owner: it asks once whether hub 1-1 switches a port alone.
    expect(r.hub.calls).toEqual([
      ['-f', '-l', '1-1', '-p', '1'],
      ['-l', '1-1', '-p', '1', '-a', 'off'],
      ['-l', '1-1', '-p', '2', '-a', 'off'],
    ]);
    expect(r.devices.devices().size).toBe(0);
    expect(r.slot('A').health).toMatchObject({ state: 'asleep', swarming: { ready: false } });
    expect(r.slot('A').absentOnPurpose).toBe('powered-off');
    // Still matching its tasks: the next one wakes it.
    expect(r.slot('A').dimensions.device_type).toEqual(['x1s', 'exynos990']);
    const result = await r.lifecycle.wake();
    expect(result.woke).toEqual([PORTS.A, PORTS.B]);
    expect(r.hub.calls.slice(3)).toEqual([
      ['-l', '1-1', '-p', '1', '-a', 'on'],
      ['-l', '1-1', '-p', '2', '-a', 'on'],
    ]);
    await r.manager.idle();
    expect(r.slot('A').health.state).toBe('ready');
    expect(r.slot('A').absentOnPurpose).toBeUndefined();
    expect(r.lifecycle.slots().every((s) => s.ready)).toBe(true);
  });

  it('stays asleep, not missing, while a powered-on phone enumerates; missing after the deadline', async () => {
    const r = await rig({ action: 'usb-power', powerOnDeadlineMs: 60_000 });
    await r.lifecycle.sleep(PORTS.A);
    r.comesBack.value = false;
    expect(await r.lifecycle.wake(PORTS.A)).toEqual({ woke: [PORTS.A], ready: false });
    await r.clock.advance(59_999);
    expect(r.slot('A').health.state).toBe('asleep');
    await r.clock.advance(1);
    expect(r.slot('A').health.state).toBe('missing');
  });

  it('leaves the slot awake when uhubctl fails, and keeps it asleep when powering on fails', async () => {
    const r = await rig({ action: 'usb-power' });
    r.hub.broken.add('1-1');
    expect(await r.lifecycle.sleep(PORTS.A)).toEqual({
      slept: [],
      skipped: [
        {
          slot: PORTS.A,
          reason:
            'sleep failed: uhubctl could not tell whether the port switches alone: uhubctl -f -l 1-1 -p 1 failed (1): No compatible devices detected at location 1-1!\nRun with -h to get usage info.',
        },
      ],
    });
    expect(r.slot('A').health.state).toBe('ready');
    expect(r.slot('A').absentOnPurpose).toBeUndefined();
    expect(await r.metric('farm_sleep_failures_total')).toBe(1);
    r.hub.broken.clear();
    await r.lifecycle.sleep(PORTS.A);
    r.hub.broken.add('1-1');
    expect(await r.lifecycle.wake(PORTS.A)).toEqual({ woke: [], ready: false });
    expect(r.counts().A).toBe('z');
    expect(await r.metric('farm_wake_failures_total')).toBe(1);
  });

  it('sleeps the screen of a network phone, which has no port to cut', async () => {
    const r = await rig({ action: 'usb-power', phones: ['A'], paths: { A: undefined } });
    await r.lifecycle.sleep('A');
    expect(r.keyevents()).toEqual(['A input keyevent KEYCODE_SLEEP']);
    expect(r.hub.calls).toEqual([]);
  });

  it('restores the state of the last run: a port left off is asleep, not missing', async () => {
    const first = await rig({ action: 'usb-power' });
    await first.lifecycle.sleep(PORTS.A);
    const saved = first.lifecycle.snapshot();
    await first.lifecycle.stop();
    await first.manager.stop();
    // A new agent: the phone behind the cut port is not there, the store knows its slot.
    const r = await rig({ action: 'usb-power', phones: ['B'], initial: saved });
    r.hub.leftOff('1-1', 1);
    expect(r.counts()).toEqual({ A: 'z', B: 0 });
    expect(r.slot('A').health.state).toBe('asleep');
    expect((await r.lifecycle.wake(PORTS.A)).woke).toEqual([PORTS.A]);
    await r.manager.idle();
    expect(r.slot('A').health.state).toBe('ready');
  });
});
