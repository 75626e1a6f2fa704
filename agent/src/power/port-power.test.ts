import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeUhubctl } from '../../../test/rigs/fake-uhubctl.js';
import type { FakeHub } from '../../../test/rigs/fake-uhubctl.js';
import { ManualClock, settle } from '../../../test/rigs/manual-clock.js';
import { PortPower, PowerRefused, slotPowerStatus } from './port-power.js';
import { readPortsAsSlotsAppear } from './slot-ports.js';

const PORT = { hub: '1-1.4', port: 2 };
const PI4 = 'Raspberry Pi 4 Model B Rev 1.4';

function rig(hubs: Record<string, number | FakeHub> = { '1-1.4': 4 }, model = PI4) {
  const clock = new ManualClock();
  const switched: string[] = [];
  const hub = new FakeUhubctl(
    hubs,
    (at, port, on) => void switched.push(`${at}:${port} ${on ? 'on' : 'off'}`),
    clock,
  );
  const power = new PortPower({
    run: hub.run,
    timeoutMs: 10_000,
    machineModel: () => model,
    clock,
    logger: pino({ level: 'silent' }),
  });
  return { clock, hub, power, switched };
}

describe('PortPower claims', () => {
  it('switches only when the deciding claim changes the port, and says who holds it', async () => {
    const r = rig();
    expect((await r.power.hold(PORT, 'sleep', 'asleep: idle')).state).toBe('off');
    // A task beats the sleep's cut: power comes back while the cut stays claimed.
    const task = await r.power.hold(PORT, 'task', 'task 5f3e running');
    expect(task).toMatchObject({ holder: 'task', state: 'on', reason: 'task 5f3e running' });
    // Charge control's cut under the task's claim changes nothing.
    expect(await r.power.hold(PORT, 'charge', 'battery 80 %: top of band')).toMatchObject({
      holder: 'task',
      state: 'on',
    });
    // The task ends: the highest cut left decides.
    expect(await r.power.release(PORT, 'task')).toMatchObject({ holder: 'charge', state: 'off' });
    expect(await r.power.release(PORT, 'charge')).toMatchObject({ holder: 'sleep', state: 'off' });
    expect(await r.power.release(PORT, 'sleep')).toMatchObject({ holder: 'none', state: 'on' });
    expect(r.switched).toEqual(['1-1.4:2 off', '1-1.4:2 on', '1-1.4:2 off', '1-1.4:2 on']);
    // One probe for the hub, then one run per actual switch.
    expect(r.hub.calls.filter((c) => c.includes('-f'))).toHaveLength(1);
    expect(r.hub.calls).toHaveLength(5);
  });

  it('is on and settled only once read on, with no switch queued or running', async () => {
    const r = rig();
    expect(r.power.onAndSettled(PORT)).toBe(false);
    await r.power.readOnce(PORT);
    expect(r.power.onAndSettled(PORT)).toBe(true);
    // Even a claim that switches nothing is a step in the port's queue until it has run.
    const held = r.power.hold(PORT, 'task', 'task 1 running');
    expect(r.power.onAndSettled(PORT)).toBe(false);
    await held;
    expect(r.power.onAndSettled(PORT)).toBe(true);
    await r.power.release(PORT, 'task');
    await r.power.hold(PORT, 'sleep', 'asleep');
    expect(r.power.onAndSettled(PORT)).toBe(false);
  });

  it('says whether giving a claim back would leave the port on', async () => {
    const r = rig();
    await r.power.hold(PORT, 'task', 'task 1 running');
    expect(r.power.onAndSettled(PORT, 'task')).toBe(true);
    await r.power.hold(PORT, 'wake', 'woken', { untilMs: r.clock.now() + 60_000 });
    expect(r.power.onAndSettled(PORT, 'task')).toBe(true);
    // A cut claimed under the task takes effect once the task lets go.
    await r.power.hold(PORT, 'charge', 'top of band');
    await r.power.release(PORT, 'wake');
    expect(r.power.onAndSettled(PORT, 'task')).toBe(false);
    expect(r.power.onAndSettled(PORT)).toBe(true);
  });

  it('a wake holds the port on for a while, replacing the sleep; then a cut may win again', async () => {
    const r = rig();
    await r.power.hold(PORT, 'sleep', 'asleep');
    const woke = await r.power.hold(PORT, 'wake', 'woken', {
      replaces: 'sleep',
      untilMs: r.clock.now() + 60_000,
    });
    expect(woke).toMatchObject({ holder: 'wake', state: 'on' });
    expect((await r.power.hold(PORT, 'charge', 'top of band')).state).toBe('on');
    await r.clock.advance(60_000);
    expect(await r.power.hold(PORT, 'charge', 'top of band')).toMatchObject({
      holder: 'charge',
      state: 'off',
    });
  });

  it('records since when the port is in its state, for /status', async () => {
    const r = rig();
    const start = r.clock.now();
    expect(slotPowerStatus(r.power, 'usb:1-1.4.2')).toMatchObject({
      holder: 'none',
      state: 'unknown',
      since: new Date(start).toISOString(),
    });
    await r.clock.advance(5_000);
    await r.power.hold(PORT, 'sleep', 'asleep');
    expect(slotPowerStatus(r.power, 'usb:1-1.4.2')).toEqual({
      holder: 'sleep',
      state: 'off',
      reason: 'asleep',
      since: new Date(start + 5_000).toISOString(),
    });
    expect(slotPowerStatus(r.power, '192.168.1.20:5555')).toBeNull();
  });

  it('withdraws a claim that failed, and shows the failure until a switch succeeds', async () => {
    const r = rig();
    await r.power.cannotSwitchAlone(PORT);
    r.hub.broken.add('1-1.4');
    await expect(r.power.hold(PORT, 'sleep', 'asleep')).rejects.toThrow(
      'No compatible devices detected at location 1-1.4!',
    );
    expect(r.power.state(PORT)).toMatchObject({ holder: 'none', state: 'unknown' });
    expect(r.power.state(PORT).lastError).toContain('No compatible devices');
    r.hub.broken.clear();
    expect((await r.power.hold(PORT, 'sleep', 'asleep')).lastError).toBeUndefined();
  });

  it('does not believe uhubctl exit 0: a hub that ignored the request is a failure', async () => {
    const r = rig();
    r.hub.ignoring.add('1-1.4');
    await expect(r.power.hold(PORT, 'sleep', 'asleep')).rejects.toThrow(
      'hub 1-1.4 port 2 is still on after uhubctl -a off',
    );
  });

  it('bounds a hung uhubctl by its timeout', async () => {
    const r = rig();
    await r.power.cannotSwitchAlone(PORT);
    r.hub.hung.add('1-1.4');
    const held = r.power.hold(PORT, 'sleep', 'asleep');
    const failed = expect(held).rejects.toThrow('failed (no answer within 10000 ms)');
    await settle();
    await r.clock.advance(10_000);
    await failed;
  });
});

describe('PortPower refuses to cut what it cannot cut alone', () => {
  it.each([
    [
      'a ganged hub',
      { '1-1': { ports: 4, switching: 'ganged' as const } },
      'switches all its ports together',
    ],
    ["the Pi 4's own hub", { '1-1': { ports: 4, usbId: '2109:3431' } }, 'own USB'],
  ])('refuses %s, leaving every phone on it powered', async (_name, hubs, why) => {
    const r = rig(hubs);
    const port = { hub: '1-1', port: 2 };
    await expect(r.power.hold(port, 'sleep', 'asleep')).rejects.toThrow(PowerRefused);
    await expect(r.power.hold(port, 'charge', 'top')).rejects.toThrow(why);
    await expect(r.power.cycle(port, 'recovery', 2000)).rejects.toThrow(why);
    expect(r.switched).toEqual([]);
    expect(r.hub.calls.every((c) => !c.includes('-a'))).toBe(true);
    // Nothing to power on either: the owner never cut it.
    expect(await r.power.release(port, 'charge')).toMatchObject({
      holder: 'none',
      state: 'unknown',
    });
    expect(r.hub.calls.every((c) => !c.includes('-a'))).toBe(true);
  });
});

describe('PortPower cycle', () => {
  it('cuts, waits the off time and powers again, alone on the port meanwhile', async () => {
    const r = rig();
    const cycle = r.power.cycle(PORT, 'phone hung: power cycle', 3_000);
    await settle();
    await settle();
    expect(r.power.state(PORT)).toMatchObject({ holder: 'recovery', state: 'cycling' });
    // A wake during the cycle waits for it.
    const wake = r.power.hold(PORT, 'wake', 'woken');
    await r.clock.advance(2_999);
    expect(r.switched).toEqual(['1-1.4:2 off']);
    await r.clock.advance(1);
    await cycle;
    expect(r.hub.calls.at(-1)).toEqual(['-l', '1-1.4', '-p', '2', '-a', 'cycle', '-d', '3']);
    expect(r.switched).toEqual(['1-1.4:2 off', '1-1.4:2 on']);
    expect(await wake).toMatchObject({ holder: 'wake', state: 'on' });
  });

  it('never cycles under a task', async () => {
    const r = rig();
    await r.power.hold(PORT, 'task', 'task running');
    await expect(r.power.cycle(PORT, 'recovery', 1000)).rejects.toThrow(
      'a task holds the port powered',
    );
  });
});

describe('PortPower after a restart', () => {
  it('reads each port’s real power once, so /status says on or off instead of unknown', async () => {
    const r = rig({ '1-1.4': 4, '1-2': { ports: 4, switching: 'ganged' }, '1-3': 2 });
    // An earlier run cut port 2 and port 1 of the ganged hub (which cut all four).
    await r.hub.run('uhubctl', ['-l', '1-1.4', '-p', '2', '-a', 'off'], 1000);
    await r.hub.run('uhubctl', ['-f', '-l', '1-2', '-p', '1', '-a', 'off'], 1000);
    r.hub.broken.add('1-3');
    const before = r.hub.calls.length;
    expect(await r.power.readOnce(PORT)).toMatchObject({
      holder: 'none',
      state: 'off',
      reason: 'off when the agent started',
    });
    // Shown in /status before its read: unknown, then read all the same.
    expect(r.power.state({ hub: '1-1.4', port: 3 }).state).toBe('unknown');
    expect(await r.power.readOnce({ hub: '1-1.4', port: 3 })).toMatchObject({ state: 'on' });
    expect(await r.power.readOnce({ hub: '1-2', port: 4 })).toMatchObject({ state: 'off' });
    expect(await r.power.readOnce({ hub: '1-3', port: 1 })).toMatchObject({
      state: 'unknown',
      reason: expect.stringMatching(/^not read: .*No compatible devices detected at location 1-3!/),
    });
    // A status run each (no action), and a port is read once only.
    expect(r.hub.calls.slice(before)).toEqual([
      ['-f', '-l', '1-1.4', '-p', '2'],
      ['-f', '-l', '1-1.4', '-p', '3'],
      ['-f', '-l', '1-2', '-p', '4'],
      ['-f', '-l', '1-3', '-p', '1'],
    ]);
    await r.power.readOnce(PORT);
    expect(r.hub.calls).toHaveLength(before + 4);
    // A claim restores what was cut; the port is not read again over a switch.
    expect(await r.power.hold(PORT, 'wake', 'woken')).toMatchObject({ state: 'on' });
    expect(r.switched.at(-1)).toBe('1-1.4:2 on');
  });

  it('reads the port of each USB slot as it appears, none for a network phone', async () => {
    const r = rig();
    await r.hub.run('uhubctl', ['-l', '1-1.4', '-p', '2', '-a', 'off'], 1000);
    const listeners: ((slot: { key: string }) => void)[] = [];
    readPortsAsSlotsAppear(r.power, {
      onSlotReported: (l) => (listeners.push(l), () => undefined),
    });
    const before = r.hub.calls.length;
    for (const key of ['usb:1-1.4.2', '192.168.1.20:5555', 'usb:1-1.4.2']) {
      listeners.forEach((listener) => listener({ key }));
    }
    await settle();
    expect(slotPowerStatus(r.power, 'usb:1-1.4.2')).toMatchObject({ state: 'off' });
    expect(r.hub.calls.slice(before)).toEqual([['-f', '-l', '1-1.4', '-p', '2']]);
  });
});
