/**
 * A node's wake side for browser and gate tests: two scripted phones behind a fake USB hub,
 * put to sleep (ports off), behind the agent's real wake routes and lifecycle on a real HTTP
 * listener. Waking powers a port on; its phone shows in adb `enumerateMs` later.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { expect } from 'vitest';
import { systemClock } from '@farm-agent/bot-config/lib';
import { operatorOnly } from '../../agent/src/http/operator-routes.js';
import { wakeRoutes } from '../../agent/src/http/wake-routes.js';
import { Lifecycle } from '../../agent/src/lifecycle/lifecycle.js';
import { OperatorCredential } from '../../agent/src/operator/credential.js';
import { FakeUhubctl } from './fake-uhubctl.js';
import { defaultState } from './fake-adbd/shell.js';
import { scriptedSlots, shellOf } from './scripted-slots.js';
import { waitFor } from './test-bots.js';

export type Cleanups = (() => Promise<unknown>)[];

/** The agent's real wake routes over `lifecycle` on a free loopback port; returns the port. */
export async function serveWakeRoutes(
  lifecycle: Lifecycle,
  stateDir: string,
  cleanups: Cleanups,
): Promise<number> {
  const app = Fastify();
  await app.register(wakeRoutes, {
    lifecycle,
    operatorOnly: operatorOnly(new OperatorCredential(join(stateDir, 'operator-credential'))),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

export async function startSleepingNode(
  cleanups: Cleanups,
  options: { secondModel?: string; enumerateMs?: number } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'sleeping-node-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const { devices, manager, logger, registry } = scriptedSlots(dir, systemClock);
  const pixel = defaultState();
  if (options.secondModel !== undefined) pixel.props['ro.product.model'] = options.secondModel;
  pixel.battery.level = 42;
  pixel.battery.plugged = 'none';
  const phones = [
    { serial: 'R58N', path: 'usb:1-1.1', state: defaultState() },
    { serial: '1A2B', path: 'usb:1-1.2', state: pixel },
  ];
  const plug = (phone: (typeof phones)[number]) =>
    devices.attach(phone.serial, {
      devicePath: phone.path,
      answer: shellOf(phone.state),
    });
  const timers = new Set<NodeJS.Timeout>();
  cleanups.push(async () => timers.forEach((t) => clearTimeout(t)));
  const hub = new FakeUhubctl({ '1-1': 4 }, (_hub, port, on) => {
    const phone = phones[port - 1];
    if (phone === undefined) return;
    if (!on) devices.detach(phone.serial);
    else timers.add(setTimeout(() => plug(phone), options.enumerateMs ?? 1500));
  });
  await manager.start();
  cleanups.push(() => manager.stop());
  phones.forEach(plug);
  await waitFor('both phones ready', () =>
    phones.every((p) => manager.slot(p.path)?.health.state === 'ready'),
  );
  const lifecycle = new Lifecycle({
    manager,
    io: devices,
    action: 'usb-power',
    tcpTables: [],
    run: hub.run,
    logger,
    registry,
  });
  lifecycle.start();
  cleanups.push(() => lifecycle.stop());
  expect((await lifecycle.sleep()).slept).toEqual(['usb:1-1.1', 'usb:1-1.2']);

  const port = await serveWakeRoutes(lifecycle, dir, cleanups);
  return {
    url: `http://127.0.0.1:${port}/`,
    address: `127.0.0.1:${port}`,
    hub,
    manager,
    lifecycle,
  };
}
