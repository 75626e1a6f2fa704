/**
 * A bot run as an unprivileged user (FARM_BOT_USER) keeps its phone: the adb
 * client in its tasks talks to the root adb server over TCP and needs no
 * USB node or key of its own.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUser } from '../../bot-config/src/bot-user.js';
import { ADB_BIN, startAdbServer, stopAllAdbServers } from '../rigs/adb-server.js';
import type { AdbServerHandle } from '../rigs/adb-server.js';
import { startFakePhone, type FakePhone } from '../rigs/fake-adbd/index.js';

const run = promisify(execFile);

describe.runIf(process.getuid?.() === 0)('adb as the bot user', () => {
  let server: AdbServerHandle;
  let phone: FakePhone;
  let home: string;

  beforeAll(async () => {
    server = await startAdbServer();
    phone = await startFakePhone({ props: { 'ro.product.model': 'Pixel 4' } });
    await server.connect(phone.serial);
    await server.waitForState(phone.serial, 'device');
    home = await mkdtemp(join(tmpdir(), 'bot-home-'));
    await chmod(home, 0o777);
  });
  afterAll(async () => {
    await phone.close();
    await stopAllAdbServers();
    await rm(home, { recursive: true, force: true });
  });

  it('lists the phone and runs a shell command through the root server', async () => {
    const nobody = findUser('nobody');
    const adb = (...args: string[]) =>
      run(ADB_BIN, ['-P', String(server.port), ...args], {
        uid: nobody.uid,
        gid: nobody.gid,
        env: { PATH: process.env.PATH, HOME: home },
        timeout: 20_000,
      });
    const { stdout: whoami } = await run('id', ['-u'], { uid: nobody.uid, gid: nobody.gid });
    expect(whoami.trim()).toBe(String(nobody.uid));
    expect((await adb('devices')).stdout).toMatch(new RegExp(`${phone.serial}\\s+device`));
    const { stdout } = await adb('-s', phone.serial, 'shell', 'getprop', 'ro.product.model');
    expect(stdout.trim()).toBe('Pixel 4');
  });
});
