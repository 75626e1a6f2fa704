/**
 * AdbTracker against the real adb server and fake phones. Unless a test is about the
 * reconcile, it runs with the reconcile effectively off, so what is seen came from the
 * tracker connection and the seed alone. Waits are for events, with generous limits: how
 * fast adb reports a change is measured by the benchmark (bench/sections/change.ts), not here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdbServerProcess } from '../../agent/src/devices/adb/adb-server.js';
import { reconnectTcp } from '../../agent/src/devices/adb/tcp-devices.js';
import { AdbTracker } from '../../agent/src/devices/adb/tracker.js';
import type { AdbTrackerOptions } from '../../agent/src/devices/adb/tracker.js';
import { ADB_BIN, startAdbServer, stopAllAdbServers } from '../rigs/adb-server.js';
import type { AdbServerHandle } from '../rigs/adb-server.js';
import { startFakePhone } from '../rigs/fake-adbd/index.js';
import type { FakePhone, PhoneScript } from '../rigs/fake-adbd/index.js';
import { freePort } from '../rigs/ports.js';
import { waitFor } from '../rigs/test-bots.js';

const OFF = 3_600_000;

interface Seen {
  serial: string;
  type: string | undefined;
  at: number;
}

describe('AdbTracker', () => {
  let server: AdbServerHandle;
  const phones: FakePhone[] = [];
  const trackers: AdbTracker[] = [];
  let seen: Seen[];

  async function phone(script: PhoneScript = {}): Promise<FakePhone> {
    const started = await startFakePhone(script);
    phones.push(started);
    return started;
  }

  function track(port: number, options: Partial<AdbTrackerOptions> = {}): AdbTracker {
    const tracker = new AdbTracker({
      port,
      logger: pino({ level: process.env.TRACE ? 'debug' : 'silent' }),
      registry: new Registry(),
      reconcileIntervalMs: OFF,
      ...options,
    });
    tracker.onChange((serial, device) => seen.push({ serial, type: device?.type, at: Date.now() }));
    trackers.push(tracker);
    tracker.start();
    return tracker;
  }

  const typesOf = (serial: string) => seen.filter((s) => s.serial === serial).map((s) => s.type);
  const until = (tracker: AdbTracker, serial: string, type: string | undefined, ms = 10_000) =>
    waitFor(`${serial} ${type ?? 'gone'}`, () => tracker.devices().get(serial)?.type === type, ms);

  beforeEach(async () => {
    seen = [];
    server = await startAdbServer();
  });

  afterEach(async () => {
    await Promise.all(trackers.splice(0).map((t) => t.stop()));
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await stopAllAdbServers();
  });

  it('sees a phone attached before start (seed), once', async () => {
    const p = await phone();
    await server.connect(p.serial);
    await server.waitForState(p.serial, 'device');
    const tracker = track(server.port);
    await until(tracker, p.serial, 'device');
    // A later change on the same connection: whatever the seed and the tracker's first list
    // had to say about the first phone has been said by then.
    const later = await phone();
    await server.connect(later.serial);
    await until(tracker, later.serial, 'device');
    expect(typesOf(p.serial)).toEqual(['device']);
  });

  it('reports attach and detach after start', async () => {
    const tracker = track(server.port);
    // Connected, with its (empty) seed taken: what follows comes over the tracking connection.
    await waitFor('the tracker connected', () => tracker.serverProblem() === undefined);
    const p = await phone();
    await server.connect(p.serial);
    await until(tracker, p.serial, 'device');
    // A TCP device is listed `offline` until its handshake, then `device`; when the
    // handshake is quick the adb server sends only the second list, so the `offline` is
    // optional (CI saw just `device`). Reading the tracker's list inside `changeSet`
    // (before adbkit updates it) would end at offline.
    const attached = typesOf(p.serial);
    expect([['offline', 'device'], ['device']]).toContainEqual(attached);
    await server.disconnect(p.serial);
    await until(tracker, p.serial, undefined);
    // The removal carries no state: adbkit's `remove` repeats the stale `device`.
    expect(typesOf(p.serial)).toEqual([...attached, undefined]);
  });

  it('reports unauthorized and offline phones, and an approval', async () => {
    const tracker = track(server.port);
    const locked = await phone({ mode: 'unauthorized' });
    const wedged = await phone({ mode: 'offline' });
    await server.adb('connect', locked.serial);
    await server.connectNoWait(wedged.serial);
    await until(tracker, locked.serial, 'unauthorized');
    await until(tracker, wedged.serial, 'offline');
    locked.mode = 'authorized';
    await until(tracker, locked.serial, 'device');
    expect(typesOf(locked.serial).at(-1)).toBe('device');
    expect(typesOf(wedged.serial)).toEqual(['offline']);
  });

  it('a dropped connection: the tracker reports offline and back', async () => {
    const tracker = track(server.port);
    const p = await phone();
    await server.connect(p.serial);
    await until(tracker, p.serial, 'device');
    const dropAt = Date.now();
    p.dropConnection();
    await waitFor('offline seen', () => seen.find((s) => s.at >= dropAt && s.type === 'offline'));
    await until(tracker, p.serial, 'device');
  });

  it('a phone gone away: the tracker stays silent, the reconcile sees offline', async () => {
    const silent = track(server.port);
    const p = await phone({ rebootAwayMs: 5000 });
    await server.connect(p.serial);
    await until(silent, p.serial, 'device');
    const reconciled = track(server.port, { reconcileIntervalMs: 200 });
    await until(reconciled, p.serial, 'device');
    void p.reboot();
    await until(reconciled, p.serial, 'offline');
    await server.waitForState(p.serial, 'offline', 100);
    // The pitfall: adb lists it offline, the tracker connection says nothing. (A second of
    // silence: under load a late message would make this pass, never fail.)
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(silent.devices().get(p.serial)?.type).toBe('device');
  });

  it('keeps the list through a short outage, forgets it after forgetAfterMs, never throws', async () => {
    const p = await phone();
    await server.connect(p.serial);
    const tracker = track(server.port, {
      forgetAfterMs: 800,
      reconnectBackoff: { initialMs: 50, maxMs: 100 },
    });
    await until(tracker, p.serial, 'device');
    const killedAt = Date.now();
    await server.kill();
    await until(tracker, p.serial, undefined);
    // Kept through the outage for forgetAfterMs at least (timers only ever fire late).
    const forgotAt = seen.find((s) => s.type === undefined)?.at ?? 0;
    expect(forgotAt - killedAt).toBeGreaterThanOrEqual(790);
    expect(typesOf(p.serial)).toEqual(['device', undefined]);
  });

  it('stop() releases every socket and timer', async () => {
    const p = await phone();
    await server.connect(p.serial);
    await server.waitForState(p.serial, 'device');
    const count = (type: string) =>
      process.getActiveResourcesInfo().filter((r) => r === type).length;
    const sockets = count('TCPSocketWrap');
    const timers = count('Timeout');
    const tracker = track(server.port, { reconcileIntervalMs: 100 });
    await until(tracker, p.serial, 'device');
    await waitFor('the tracker holding sockets', () => count('TCPSocketWrap') > sockets);
    await tracker.stop();
    await waitFor('sockets released', () => count('TCPSocketWrap') === sockets, 2000);
    expect(count('Timeout')).toBeLessThanOrEqual(timers);
  });
});

describe('AdbTracker across an adb server restart (same port)', () => {
  let home: string;
  let supervisor: AdbServerProcess;
  let tracker: AdbTracker;
  let p: FakePhone;
  let seen: Seen[];
  let registry: Registry;

  beforeEach(async () => {
    seen = [];
    home = await mkdtemp(join(tmpdir(), 'adb-tracker-'));
  });

  afterEach(async () => {
    await tracker.stop();
    await supervisor.stop();
    await p.close();
    await rm(home, { recursive: true, force: true });
  });

  /** Server, phone connected, then the tracker (seeded with just `device`). */
  async function setUp(afterRestart: (port: number) => void, reconnectMs = 600): Promise<number> {
    const port = await freePort();
    p = await startFakePhone();
    let ready = 0;
    supervisor = new AdbServerProcess({
      port,
      bin: ADB_BIN,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      env: { ...process.env, HOME: home, ANDROID_SDK_HOME: home, ADB_MDNS: '0' },
      restartBackoff: { initialMs: 20, maxMs: 20, jitter: 0 },
      onReady: () => {
        ready += 1;
        if (ready > 1) afterRestart(port);
      },
    });
    supervisor.start();
    await waitFor('server ready', () => ready === 1);
    expect(await reconnectTcp({ port }, [p.serial], 2000)).toEqual([{ serial: p.serial }]);
    registry = new Registry();
    tracker = new AdbTracker({
      port,
      logger: pino({ level: 'silent' }),
      registry,
      reconcileIntervalMs: OFF,
      // Deterministic: the tracker comes back 600 ms after losing the server.
      reconnectBackoff: { initialMs: reconnectMs, maxMs: reconnectMs, jitter: 0 },
    });
    tracker.onChange((serial, device) => seen.push({ serial, type: device?.type, at: Date.now() }));
    tracker.start();
    // The tracker's first list can show the phone before its seed has answered: wait for both.
    await waitFor(
      'phone tracked and seeded',
      () => tracker.devices().get(p.serial)?.type === 'device' && !tracker.serverProblem(),
    );
    expect(seen.map((s) => s.type)).toEqual(['device']);
    return port;
  }

  it('reconnects and re-seeds without a single duplicate event', async () => {
    await setUp((port) => void reconnectTcp({ port }, [p.serial], 2000));
    const first = supervisor.pid as number;
    process.kill(first, 'SIGKILL');
    // The supervisor restarts the server at once and the phone is connected again long
    // before the tracker reconnects: from the tracker's side nothing changed.
    await waitFor('new server', () => supervisor.pid !== undefined && supervisor.pid !== first);
    // The tracker counts a reconnect once it has tracked and re-seeded from the new server.
    await waitFor('the tracker reconnected', async () => {
      const metric = await registry.getSingleMetric('farm_adb_tracker_reconnects_total')?.get();
      return (metric?.values[0]?.value ?? 0) >= 1;
    });
    expect(seen.map((s) => s.type)).toEqual(['device']);
    expect(tracker.devices().get(p.serial)?.type).toBe('device');
    // And it really tracks the new server: a dropped connection is reported.
    p.dropConnection();
    await waitFor('offline via the new tracker', () => seen.length > 1);
    expect(seen[1]?.type).toBe('offline');
  });

  it('a restarted server that forgot the phone: removed once, then back', async () => {
    const port = await setUp(() => undefined);
    process.kill(supervisor.pid as number, 'SIGKILL');
    await waitFor('gone', () => tracker.devices().get(p.serial) === undefined);
    await reconnectTcp({ port }, [p.serial], 2000);
    await waitFor('back', () => tracker.devices().get(p.serial)?.type === 'device');
    // The `offline` before the handshake is optional, as in 'reports attach and detach'.
    const types = seen.map((s) => s.type);
    expect([
      ['device', undefined, 'offline', 'device'],
      ['device', undefined, 'device'],
    ]).toContainEqual(types);
  });

  it('says the server is down from the moment it is lost until reconnectNow() is back on it', async () => {
    const problems: (string | undefined)[] = [];
    // Left to its backoff the tracker would wait a minute: only reconnectNow() can help.
    await setUp((port) => {
      tracker.reconnectNow();
      void reconnectTcp({ port }, [p.serial], 2000);
    }, 60_000);
    expect(tracker.serverProblem()).toBeUndefined();
    tracker.onServerChange((problem) => problems.push(problem));
    const first = supervisor.pid as number;
    process.kill(first, 'SIGKILL');
    await waitFor('the problem reported', () => problems.length > 0, 2000);
    expect(problems[0]).toMatch(/^adb server unreachable: /);
    // The last list is kept meanwhile: the problem, not an empty list, tells the truth.
    expect(tracker.devices().get(p.serial)?.type).toBe('device');
    await waitFor('the new server tracked', () => tracker.serverProblem() === undefined, 5000);
    expect(problems).toHaveLength(2);
    await waitFor('phone back', () => tracker.devices().get(p.serial)?.type === 'device', 3000);
  });
});
