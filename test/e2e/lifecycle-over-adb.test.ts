/**
 * The idle and wake lifecycle over the real adb layer: a real adb server, two fake
 * phones on TCP, AdbTracker, AdbDeviceIO, a real SlotManager and the wake routes on a
 * real HTTP listener. Idle checks are run by hand (the interval is an hour) so each
 * step is one check; the TCP tables are files the test writes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { SlotBotDevices } from '../../agent/src/devices/slot-bot-devices.js';
import { Lifecycle } from '../../agent/src/lifecycle/lifecycle.js';
import type { SleepAction } from '../../agent/src/config/sleep-action.js';
import { FakeUhubctl } from '../rigs/fake-uhubctl.js';
import { startAdbServer } from '../rigs/adb-server.js';
import { startAdbSlots } from '../rigs/adb-slots.js';
import { startFakePhone } from '../rigs/fake-adbd/index.js';
import { serveWakeRoutes } from '../rigs/sleeping-node.js';
import { waitFor } from '../rigs/test-bots.js';

const LIMIT = 3;
const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt';
/** 192.168.1.5:5037 ← 192.168.1.30:54321 ESTABLISHED: someone's adb client on the LAN. */
const EXTERNAL =
  '   0: 0501A8C0:13AD 1E01A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 1';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startRig(action: SleepAction) {
  const dir = await mkdtemp(join(tmpdir(), 'lifecycle-over-adb-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const server = await startAdbServer();
  cleanups.push(() => server.stop());
  const phones = await Promise.all([startFakePhone(), startFakePhone()]);
  cleanups.push(() => Promise.all(phones.map((p) => p.close())));
  const { logger, registry, io, manager, tracker } = await startAdbSlots(server.port, dir, (stop) =>
    cleanups.push(stop),
  );
  const serials = phones.map((p) => p.serial);
  // A hub whose port N powers phone N: power off takes the phone out of adb, as a
  // USB phone leaves when its port goes dark; power on brings it back.
  const hub = new FakeUhubctl({ '1-1': 4 }, async (_hub, port, on) => {
    const serial = serials[port - 1] ?? '';
    await (on ? server.connect(serial) : server.disconnect(serial));
  });
  const tcp = join(dir, 'tcp');
  const tables = (...rows: string[]) => writeFile(tcp, [TCP_HEADER, ...rows, ''].join('\n'));
  await tables();
  const lifecycle = new Lifecycle({
    manager,
    io,
    action,
    intervalMs: 3_600_000,
    holdMs: 1,
    idleChecks: LIMIT,
    tcpTables: [tcp, join(dir, 'tcp6-absent')],
    run: hub.run,
    // TCP phones have no USB path; here each one sits behind a port of the fake hub.
    powerTarget: (slot) => ({ hub: '1-1', port: serials.indexOf(slot.key) + 1 }),
    logger,
    registry,
  });
  cleanups.push(() => lifecycle.stop());
  const base = `http://127.0.0.1:${await serveWakeRoutes(lifecycle, dir, cleanups)}`;

  for (const serial of serials) await server.connect(serial);
  await waitFor('both phones ready', () =>
    serials.every((s) => manager.slot(s)?.health.state === 'ready'),
  );
  lifecycle.start();
  const counts = () => serials.map((s) => lifecycle.snapshot()[s]);
  const keyevents = (code: string) =>
    phones.map((p) => p.shellCommands.filter((c) => c === `input keyevent ${code}`).length);
  const http = async (method: string, path: string) => {
    const response = await fetch(`${base}${path}`, { method });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  return {
    server,
    phones,
    serials,
    tracker,
    manager,
    lifecycle,
    hub,
    tables,
    counts,
    keyevents,
    http,
  };
}

const at = (idleChecks: number, asleep = false) => ({ idleChecks, asleep });

it('sleeps idle phones with KEYCODE_SLEEP at N checks, wakes them over /wake; connections and tasks keep them awake', async () => {
  const r = await startRig('screen');
  await r.lifecycle.check();
  expect(r.counts()).toEqual([at(1), at(1)]);
  await r.lifecycle.check();
  expect(r.counts()).toEqual([at(2), at(2)]);
  expect(r.keyevents('KEYCODE_SLEEP')).toEqual([0, 0]);
  await r.lifecycle.check();
  expect(r.counts()).toEqual([at(0, true), at(0, true)]);
  // Commands that arrived at the phones over adb.
  expect(r.keyevents('KEYCODE_SLEEP')).toEqual([1, 1]);

  expect(await r.http('GET', '/wake')).toEqual({
    status: 200,
    body: { woke: r.serials, ready: true },
  });
  expect(r.keyevents('KEYCODE_WAKEUP')).toEqual([1, 1]);
  expect(r.counts()).toEqual([at(0), at(0)]);
  expect(await r.http('GET', '/wake?slot=usb-9-9')).toMatchObject({
    status: 404,
    body: { error: expect.stringContaining('no slot "usb-9-9"') as string },
  });

  // Someone's adb client from the LAN resets both counters, whichever phone it uses.
  await r.lifecycle.check();
  await r.lifecycle.check();
  expect(r.counts()).toEqual([at(2), at(2)]);
  await r.tables(EXTERNAL);
  await r.lifecycle.check();
  expect(r.counts()).toEqual([at(0), at(0)]);
  await r.tables();

  // A running task keeps its phone awake; the other one sleeps.
  const [first = '', second = ''] = r.serials;
  r.manager.taskStarted(first);
  for (let i = 0; i < LIMIT; i++) await r.lifecycle.check();
  expect(r.counts()).toEqual([at(0), at(0, true)]);
  expect(r.keyevents('KEYCODE_SLEEP')).toEqual([1, 2]);
  expect((await r.http('POST', `/wake?slot=${encodeURIComponent(second)}`)).body).toEqual({
    woke: [second],
    ready: true,
  });
});

it('usb-power: a phone that leaves adb while its port is off is asleep, not missing, and /wake brings it back', async () => {
  const r = await startRig('usb-power');
  const devices = new SlotBotDevices(r.manager);
  const [first = '', second = ''] = r.serials;
  for (let i = 0; i < LIMIT; i++) await r.lifecycle.check();
  // The power owner asks once whether hub 1-1 switches a port alone, then cuts each port.
  expect(r.hub.calls).toEqual([
    ['-f', '-l', '1-1', '-p', '1'],
    ['-l', '1-1', '-p', '1', '-a', 'off'],
    ['-l', '1-1', '-p', '2', '-a', 'off'],
  ]);
  expect(await r.server.devices()).toEqual(new Map());
  await waitFor('the tracker to see both phones go', () =>
    r.serials.every((s) => r.manager.slot(s)?.adbState === undefined),
  );
  // Several refreshes later it is still asleep: reconciling never turns it missing. (Each
  // refresh reconciles with the tracker's list: counted, not waited for.)
  const lists = vi.spyOn(r.tracker, 'devices');
  await waitFor('three refreshes', () => lists.mock.calls.length >= 3);
  const slot = r.manager.slot(first);
  expect(slot?.health.state).toBe('asleep');
  expect(slot?.absentOnPurpose).toBe('powered-off');
  // Swarming keeps the bot, not quarantined: the next task wakes the phone.
  expect(await devices.view(slot?.botId ?? '')).toMatchObject({ ready: false });
  expect(await devices.view(slot?.botId ?? '')).not.toHaveProperty('quarantined');

  const name = slot?.name ?? '';
  const woke = await r.http('POST', `/wake?slot=${name}`);
  expect(woke.body).toMatchObject({ woke: [first] });
  expect(r.hub.calls.at(-1)).toEqual(['-l', '1-1', '-p', '1', '-a', 'on']);
  await waitFor('the phone back and ready on /lifecycle', async () => {
    const view = (await r.http('GET', '/lifecycle')).body as {
      slots: { slot: string; state: string; ready: boolean }[];
    };
    return view.slots.find((s) => s.slot === first)?.ready;
  });
  expect(r.manager.slot(first)?.absentOnPurpose).toBeUndefined();
  // The other phone stayed asleep and off.
  expect(r.manager.slot(second)?.health.state).toBe('asleep');
  expect(r.hub.isOn('1-1', 2)).toBe(false);
});
