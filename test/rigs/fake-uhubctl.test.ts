import { describe, expect, it } from 'vitest';
import { FakeUhubctl } from './fake-uhubctl.js';
import { ManualClock, settle } from './manual-clock.js';

const USAGE = 'Run with -h to get usage info.';

describe('the strict uhubctl fake', () => {
  it.each([
    [['-a', 'off'], 'the fake refuses to switch every port'],
    [['-l', '1-1', '-p', 'all', '-a', 'off'], 'the fake refuses to switch every port'],
    [
      ['-l', '1-1', '-p', '15', '-a', 'off'],
      'Bad port spec 15-15, port numbers must be from 1 to 14',
    ],
    [['-l', '1-1', '-p', '0', '-a', 'off'], 'Bad port spec 0-0'],
    [
      ['-l', '2-1', '-p', '1', '-a', 'off'],
      `No compatible devices detected at location 2-1!\n${USAGE}`,
    ],
    [['-l', '1-1', '-p', '1', '-x', 'off'], `uhubctl: invalid option -- 'x'\n${USAGE}`],
    [['-l', '1-1', '-p'], "uhubctl: option requires an argument -- 'p'"],
    [['-l', '1-1', 'off'], 'Invalid command line syntax!'],
    // Ganged hubs are hidden without -f, as uhubctl's usb_find_hubs skips them.
    [['-l', '1-2', '-p', '1', '-a', 'off'], 'No compatible devices detected at location 1-2!'],
    [
      ['-f', '-p', '1', '-a', 'off'],
      'Error: changing port state for multiple hubs at once is not supported.',
    ],
  ])('rejects %j with exit 1 as uhubctl does', async (args, message) => {
    const hub = new FakeUhubctl({ '1-1': 4, '1-2': { ports: 4, switching: 'ganged' } });
    await expect(hub.run('uhubctl', args, 1000)).rejects.toThrow(
      `uhubctl ${args.join(' ')} failed (1): ${message}`,
    );
  });

  it('answers 0 where uhubctl does: a port beyond the hub prints nothing, an unknown action shows status', async () => {
    const hub = new FakeUhubctl({ '1-1': 4 });
    expect(await hub.run('uhubctl', ['-l', '1-1', '-p', '9', '-a', 'off'], 1000)).toBe(
      'Current status for hub 1-1 [2109:2817 Fake USB2.0 Hub, USB 2.10, 4 ports, ppps]\nSent power off request\nNew status for hub 1-1 [2109:2817 Fake USB2.0 Hub, USB 2.10, 4 ports, ppps]\n',
    );
    expect(await hub.run('uhubctl', ['-l', '1-1', '-p', '1', '-a', 'sideways'], 1000)).toBe(
      'Current status for hub 1-1 [2109:2817 Fake USB2.0 Hub, USB 2.10, 4 ports, ppps]\n  Port 1: 0503 power highspeed enable connect [18d1:4ee7 Google Pixel]\n',
    );
    expect(hub.isOn('1-1', 1)).toBe(true);
  });

  it('lists a ganged hub with -f, and switches all its ports together', async () => {
    const changes: string[] = [];
    const hub = new FakeUhubctl({ '1-1': { ports: 2, switching: 'ganged' } }, (_at, port, on) => {
      changes.push(`${port} ${on}`);
    });
    expect(await hub.run('uhubctl', ['-f', '-l', '1-1', '-p', '2'], 1000)).toContain(
      '2 ports, ganged]',
    );
    await hub.run('uhubctl', ['-f', '-l', '1-1', '-p', '2', '-a', 'off'], 1000);
    expect(changes).toEqual(['1 false', '2 false']);
  });

  it('keeps VBUS on a cut port of a hub that only cuts data', async () => {
    const hub = new FakeUhubctl({ '1-1': { ports: 4, keepsVbus: true }, '1-2': 4 });
    await hub.run('uhubctl', ['-l', '1-1', '-p', '1', '-a', 'off'], 1000);
    await hub.run('uhubctl', ['-l', '1-2', '-p', '1', '-a', 'off'], 1000);
    expect([hub.isOn('1-1', 1), hub.vbus('1-1', 1), hub.vbus('1-2', 1)]).toEqual([
      false,
      true,
      false,
    ]);
  });

  it('cycles: off, -d seconds, on; a hung hub answers only at the timeout', async () => {
    const clock = new ManualClock();
    const changes: boolean[] = [];
    const hub = new FakeUhubctl({ '1-1': 4 }, (_at, _port, on) => void changes.push(on), clock);
    const cycle = hub.run('uhubctl', ['-l', '1-1', '-p', '3', '-a', 'cycle', '-d', '1.5'], 5000);
    await settle();
    expect(changes).toEqual([false]);
    await clock.advance(1500);
    const output = await cycle;
    expect(changes).toEqual([false, true]);
    expect(output.match(/^(Current|New|Sent).*$/gm)).toEqual([
      expect.stringMatching(/^Current/),
      'Sent power off request',
      expect.stringMatching(/^New/),
      expect.stringMatching(/^Current/),
      'Sent power on request',
      expect.stringMatching(/^New/),
    ]);
    hub.hung.add('1-1');
    const hung = expect(hub.run('uhubctl', ['-l', '1-1'], 5000)).rejects.toThrow(
      'uhubctl -l 1-1 failed (no answer within 5000 ms)',
    );
    await settle();
    await clock.advance(5000);
    await hung;
  });
});
