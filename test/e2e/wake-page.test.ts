/**
 * The wake page as a person sees it: headless Chromium (playwright-core) loads `/`
 * from a real HTTP listener whose lifecycle has two phones asleep behind powered-off
 * USB ports. Loading the page powers the ports on; the phones come back a moment
 * later and the page, polling by itself, turns from "Waking" to "All ready".
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, expect, it } from 'vitest';
import { systemClock } from '@farm-agent/bot-config/lib';
import { operatorOnly } from '../../agent/src/http/operator-routes.js';
import { wakeRoutes } from '../../agent/src/http/wake-routes.js';
import { Lifecycle } from '../../agent/src/lifecycle/lifecycle.js';
import { OperatorCredential } from '../../agent/src/operator/credential.js';
import { FakeUhubctl } from '../rigs/fake-uhubctl.js';
import { defaultState } from '../rigs/fake-adbd/shell.js';
import { scriptedSlots, shellOf } from '../rigs/scripted-slots.js';
import { waitFor } from '../rigs/test-bots.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
/** How long a powered-on phone takes to show in adb here: long enough to see "Waking". */
const ENUMERATE_MS = 1500;
/** A model string a phone could report: it must show as text, never run. */
const HOSTILE_MODEL = '<img src=x onerror="document.title=\'pwned\'">';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startNode() {
  const dir = await mkdtemp(join(tmpdir(), 'wake-page-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const { devices, manager, logger, registry } = scriptedSlots(dir, systemClock);
  const pixel = defaultState();
  pixel.props['ro.product.model'] = HOSTILE_MODEL;
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
    else timers.add(setTimeout(() => plug(phone), ENUMERATE_MS));
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

  const app = Fastify();
  await app.register(wakeRoutes, {
    lifecycle,
    operatorOnly: operatorOnly(new OperatorCredential(join(dir, 'operator-credential'))),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  return { url, hub, manager };
}

async function openBrowser(): Promise<Page> {
  const profile = await mkdtemp(join(tmpdir(), 'wake-page-chromium-'));
  cleanups.push(() => rm(profile, { recursive: true, force: true }));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
    viewport: { width: 1000, height: 420 },
  });
  cleanups.push(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  // Inline everything: a request to anywhere but the agent would be an external asset.
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith('http://127.0.0.1:')) elsewhere.push(request.url());
  });
  cleanups.push(async () => expect(elsewhere).toEqual([]));
  return page;
}

const headline = (page: Page) => page.locator('#headline').textContent();
const rows = (page: Page) =>
  page
    .locator('tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) =>
        [...tr.querySelectorAll('td')].map((td) => td.innerText.replace(/\n/g, ' | ')),
      ),
    );

it('wakes the phones on load and refreshes until all are ready, showing each phone', async () => {
  const node = await startNode();
  const page = await openBrowser();
  await page.goto(node.url);

  await waitFor(
    'the page to show the phones waking',
    async () => (await headline(page)) === 'Waking 2 phones…',
  );
  // Readings went with the phones; who they are stays known.
  const waking = 'waking | Powered on; waiting for the phone to show in adb';
  expect(await rows(page)).toEqual([
    ['usb-1-1-1 | pi-1-usb-1-1-1', 'SM-G980F | R58N', waking, '—', '—'],
    ['usb-1-1-2 | pi-1-usb-1-1-2', `${HOSTILE_MODEL} | 1A2B`, waking, '—', '—'],
  ]);
  // The page asked for the wake: both ports were powered on.
  expect(node.hub.calls.filter((args) => args.at(-1) === 'on')).toHaveLength(2);

  await waitFor(
    'the page to show all ready',
    async () => (await headline(page)) === 'All 2 phones ready',
  );
  expect(await page.title()).toBe('All 2 phones ready');
  expect(await rows(page)).toEqual([
    ['usb-1-1-1 | pi-1-usb-1-1-1', 'SM-G980F | R58N', 'ready', '85 % | plugged in', '33.1 °C'],
    ['usb-1-1-2 | pi-1-usb-1-1-2', `${HOSTILE_MODEL} | 1A2B`, 'ready', '42 %', '33.1 °C'],
  ]);
  // The hostile model is text on the page, not an element.
  expect(await page.locator('img').count()).toBe(0);

  const shot = join(await mkdtemp(join(tmpdir(), 'wake-page-shot-')), 'wake-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`wake page screenshot: ${shot}`);
});
