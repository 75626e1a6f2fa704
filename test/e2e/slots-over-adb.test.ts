/**
 * The slot manager over the real adb layer: a real adb server, a fake phone on TCP,
 * AdbTracker and AdbDeviceIO. The phone attaches and is ready with Skia's dimensions;
 * once adb drops it the slot is missing with the gone-missing quarantine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { SlotBotDevices } from '../../agent/src/devices/slot-bot-devices.js';
import { startAdbServer } from '../rigs/adb-server.js';
import { startAdbSlots } from '../rigs/adb-slots.js';
import { startFakePhone } from '../rigs/fake-adbd/index.js';
import { DEFAULT_PHONE_DIMENSIONS } from '../rigs/fake-adbd/shell.js';
import { waitFor } from '../rigs/test-bots.js';
import { ACTION } from '../rigs/health-texts.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('attaches a phone over adb as ready, and reports it missing once adb drops it', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'slots-over-adb-'));
  cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
  const server = await startAdbServer();
  cleanups.push(() => server.stop());
  const phone = await startFakePhone();
  cleanups.push(() => phone.close());
  // The manager's own refresh interval: presence changes must show without a reconcile.
  const { manager } = await startAdbSlots(server.port, stateDir, (stop) => cleanups.push(stop), {
    refreshIntervalMs: 30_000,
  });
  const devices = new SlotBotDevices(manager);

  await server.connect(phone.serial);
  const [bot] = await waitFor('a bot for the phone', () => manager.bots()[0] && manager.bots());
  expect(bot).toEqual({
    botId: expect.stringMatching(/^pi-1-127-0-0-1-\d+$/) as string,
    slot: phone.serial,
    serial: phone.serial,
  });
  const botId = bot?.botId ?? '';
  expect(await devices.whenReady(botId, 10_000)).toBe(true);
  expect(await devices.view(botId)).toEqual({
    dimensions: DEFAULT_PHONE_DIMENSIONS,
    ready: true,
  });

  await server.disconnect(phone.serial);
  await waitFor('the slot missing', () => manager.slot(phone.serial)?.health.state === 'missing');
  expect(await devices.view(botId)).toMatchObject({
    quarantined: `Device "x1s" has gone missing. ${ACTION.checkGone}`,
    ready: false,
  });
});
