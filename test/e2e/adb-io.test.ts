/**
 * AdbDeviceIO against the real adb server and fake phones.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdbDeviceIO, AdbTimeoutError } from '../../agent/src/devices/adb/adb-io.js';
import { startAdbServer, stopAllAdbServers } from '../rigs/adb-server.js';
import type { AdbServerHandle } from '../rigs/adb-server.js';
import { startFakePhone } from '../rigs/fake-adbd/index.js';
import type { FakePhone, PhoneScript } from '../rigs/fake-adbd/index.js';
import { waitFor } from '../rigs/test-bots.js';

describe('AdbDeviceIO', () => {
  let server: AdbServerHandle;
  let io: AdbDeviceIO;
  const phones: FakePhone[] = [];

  async function connectedPhone(script: PhoneScript = {}): Promise<FakePhone> {
    const phone = await startFakePhone(script);
    phones.push(phone);
    await server.connect(phone.serial);
    await server.waitForState(phone.serial, 'device');
    return phone;
  }

  beforeEach(async () => {
    server = await startAdbServer();
    io = new AdbDeviceIO({ port: server.port });
  });

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await stopAllAdbServers();
  });

  it('reads the whole output of a shell command', async () => {
    // Larger than one WRTE (the phone's max payload is 256 KiB): several chunks, each
    // acknowledged before the next, must all arrive.
    const big = `${'0123456789abcdef'.repeat(40_000)}\nEND\n`;
    const phone = await connectedPhone({
      props: { 'ro.product.model': 'Pixel 4' },
      onShell: (command) => (command === 'cat big' ? big : undefined),
    });
    expect(await io.shell(phone.serial, 'cat big', 5000)).toBe(big);
    expect(await io.shell(phone.serial, 'getprop', 2000)).toContain(
      '[ro.product.model]: [Pixel 4]\n',
    );
    expect(await io.shell(phone.serial, 'getprop ro.build.id', 2000)).toBe('QP1A.190711.020\n');
  });

  it('a hanging command rejects after its timeout, closes its stream, and others still work', async () => {
    const phone = await connectedPhone({ hang: new Set(['dumpsys thermalservice']) });
    const started = Date.now();
    await expect(io.shell(phone.serial, 'dumpsys thermalservice', 300)).rejects.toBeInstanceOf(
      AdbTimeoutError,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1000);
    // Destroying our socket makes the adb server close the stream on the phone.
    await phone.waitForEvent(
      (e) => e.type === 'host-close' && e.service === 'shell:dumpsys thermalservice',
      2000,
    );
    await waitFor('no open stream on the phone', () => phone.openStreams() === 0, 2000);
    expect(await io.shell(phone.serial, 'getprop ro.product.name', 2000)).toBe('x1sxx\n');
  });

  it('rejects with adb’s reason for an unknown serial', async () => {
    await expect(io.shell('no-such-serial', 'true', 2000)).rejects.toThrow(/not found/);
  });

  it('devicePath is undefined for a TCP device in any state, and rejects for an unknown one', async () => {
    const phone = await connectedPhone();
    expect((await server.adb('-s', phone.serial, 'get-devpath')).trim()).toBe('unknown');
    expect(await io.devicePath(phone.serial, 2000)).toBeUndefined();
    const wedged = await startFakePhone({ mode: 'offline' });
    phones.push(wedged);
    await server.connectNoWait(wedged.serial);
    await server.waitForState(wedged.serial, 'offline');
    // get-devpath itself refuses an offline device; the slot must still be found.
    await expect(server.adb('-s', wedged.serial, 'get-devpath')).rejects.toThrow(/offline/);
    expect(await io.devicePath(wedged.serial, 2000)).toBeUndefined();
    await expect(io.devicePath('no-such-serial', 2000)).rejects.toThrow(/not found/);
  });

  it('reboot sends reboot: and the phone drops off', async () => {
    const phone = await connectedPhone({ rebootAwayMs: 5000 });
    await io.reboot(phone.serial, 2000);
    await phone.waitForEvent((e) => e.type === 'open' && e.service === 'reboot:', 2000);
    await phone.waitForEvent((e) => e.type === 'disconnect', 2000);
    await server.waitForState(phone.serial, 'offline', 2000);
  });

  it('keeps no socket once a call is over, whatever its outcome', async () => {
    const phone = await connectedPhone({ hang: new Set(['sleep 60']), rebootAwayMs: 5000 });
    const sockets = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    for (let round = 0; round < 5; round++) {
      await io.shell(phone.serial, 'getprop ro.build.id', 2000);
      await expect(io.shell(phone.serial, 'sleep 60', 200)).rejects.toThrow(AdbTimeoutError);
      await expect(io.shell('no-such-serial', 'true', 2000)).rejects.toThrow(/not found/);
      await io.devicePath(phone.serial, 2000);
      await expect(io.devicePath('no-such-serial', 2000)).rejects.toThrow(/not found/);
    }
    await io.reboot(phone.serial, 2000);
    // Unfixed, every host:devices-l stayed open for good: 10 more here.
    await waitFor('every socket closed', () => sockets() <= before, 3000);
  });

  it('never starts an adb server itself when none answers', async () => {
    await server.kill();
    // adbkit would run `adb -P port start-server` on ECONNREFUSED and leave a daemon.
    await expect(io.shell('any', 'true', 2000)).rejects.toThrow(/ECONNREFUSED/);
    await expect(io.devicePath('any', 2000)).rejects.toThrow(/ECONNREFUSED/);
    await expect(io.reboot('any', 2000)).rejects.toThrow(/ECONNREFUSED/);
  });
});
