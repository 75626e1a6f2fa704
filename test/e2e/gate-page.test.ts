/**
 * The farm gate's pages as a person sees them, in headless Chromium: the fleet table (sorting by
 * a heading, filtering, paging, stale heartbeats and long uptimes highlighted, a phone's details
 * on click, refreshing by itself) and the waking page for a phone chosen by dimension, from
 * "Waking" to "Ready" with the adb line. Screenshots are kept under test-output/gate/.
 */
import type { Page } from 'playwright-core';
import { afterEach, expect, it } from 'vitest';
import type { SnapshotSlot } from '../../agent/src/cluster/cluster-model.js';
import { keepScreenshot, openBrowser } from '../rigs/browser.js';
import { reportRealNode, startGateRig } from '../rigs/gate-rig.js';
import { freePort } from '../rigs/ports.js';
import { startSleepingNode, type Cleanups } from '../rigs/sleeping-node.js';
import { waitFor } from '../rigs/test-bots.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A phone model any phone could report: it must show as text, never run. */
const HOSTILE = '<img src=x onerror="document.title=\'pwned\'">';

function phones(node: string, n: number, extra: (i: number) => Partial<SnapshotSlot>) {
  return Array.from({ length: n }, (_, i) => ({
    name: `usb-1-${i + 1}`,
    key: `usb:1-${i + 1}`,
    botId: `${node}-usb-1-${i + 1}`,
    state: 'ready',
    deviceType: 'sargo',
    model: 'Pixel 3a',
    serial: `${node.toUpperCase()}${i}`,
    dimensions: { device_type: ['sargo'], device_os: ['Q'] },
    batteryPercent: 40 + i * 3,
    temperatureC: 28 + i,
    uptimeSeconds: 3600 * (i + 1),
    ...extra(i),
  }));
}

const rowIds = (page: Page) =>
  page.locator('tr.phone').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));

it('shows the farm as a sortable, filterable, paged table that refreshes itself', async () => {
  const rig = await startGateRig(cleanups);
  const address = `127.0.0.1:${await freePort()}`;
  /** Nodes pi-1..pi-`last` renew their Lease: ten phones each, a few of them notable. */
  const renew = (last: number) => {
    for (let n = 1; n <= last; n++) {
      const node = `pi-${n}`;
      rig.agentReports({
        node,
        address,
        lifecycle: {},
        slots: phones(node, 10, (i) => ({
          ...(n === 3 && i === 0 ? { state: 'busy' } : {}),
          ...(n === 4 && i === 0 ? { uptimeSeconds: 30 * 3600, model: HOSTILE } : {}),
          ...(n === 5 && i === 0 ? { state: 'missing', reason: 'gone from adb for 10 min' } : {}),
        })),
      });
    }
  };
  renew(12);
  await rig.relist();
  // pi-12 stops renewing: its heartbeat goes stale.
  await rig.clock.advance(65_000);
  renew(11);
  await rig.relist();

  const page = await openBrowser(cleanups, { width: 1400, height: 900 });
  await page.goto(`${rig.url}/`);
  await waitFor('the table', async () => (await page.locator('tr.phone').count()) === 100);
  expect(await page.locator('#count').textContent()).toBe('1–100 of 120 phones');
  expect(await page.locator('#summary').textContent()).toBe(
    '12 nodes · 1 busy · 1 missing · 118 ready',
  );
  // Natural order: usb-1-2 before usb-1-10, pi-2 before pi-10.
  const ids = await rowIds(page);
  expect(ids.slice(0, 2)).toEqual(['pi-1/usb-1-1', 'pi-1/usb-1-2']);
  expect(ids.indexOf('pi-2/usb-1-1')).toBe(10);
  await keepScreenshot(page, 'gate', 'fleet');

  // Stale heartbeats and long uptimes stand out.
  expect(await page.locator('tr.phone.stale').count()).toBe(0); // pi-12 is on page 2
  await page.locator('#next').click();
  await waitFor(
    'page 2',
    async () => (await page.locator('#count').textContent()) === '101–120 of 120 phones',
  );
  expect(await page.locator('tr.phone.stale').count()).toBe(10);
  await page.locator('#prev').click();
  await waitFor(
    'page 1',
    async () => (await page.locator('#count').textContent())?.startsWith('1–') === true,
  );
  expect(
    await page
      .locator('tr.phone.long-uptime')
      .evaluateAll((t) => t.map((r) => r.getAttribute('data-id'))),
  ).toEqual(['pi-4/usb-1-1']);

  // Sorting by a heading, then the other way.
  await page.locator('th[data-col="battery"]').click();
  await waitFor('sorted by battery', async () => (await rowIds(page))[0] === 'pi-1/usb-1-1');
  await page.locator('th[data-col="battery"]').click();
  await waitFor(
    'sorted by battery, descending',
    async () => (await rowIds(page))[0] === 'pi-1/usb-1-10',
  );
  expect(await page.locator('th[data-col="battery"]').textContent()).toBe('Battery ▼');

  // Filtering by words and column:value.
  await page.locator('#filter').fill('state:busy');
  await waitFor('one busy phone', async () => (await rowIds(page)).join() === 'pi-3/usb-1-1');
  await page.locator('#filter').fill('missing');
  await waitFor('one missing phone', async () => (await rowIds(page)).join() === 'pi-5/usb-1-1');
  expect(await page.locator('#count').textContent()).toBe('1–1 of 1 (of 120) phones');

  // A phone's details on click, every value as text.
  await page.locator('#filter').fill('node:pi-4 slot:usb-1-1');
  await waitFor('pi-4', async () => (await rowIds(page)).join() === 'pi-4/usb-1-1');
  await page.locator('tr.phone').first().click();
  const details = await page.locator('tr.details').innerText();
  expect(details).toContain('device_os\nQ');
  expect(details).toContain(`Agent\n${address}`);
  expect(await page.locator('img').count()).toBe(0);
  expect(await page.locator('tr.phone td').nth(3).textContent()).toBe(HOSTILE);
  await keepScreenshot(page, 'gate', 'fleet-details');

  // It refreshes by itself: a phone that gets busy shows without a reload.
  rig.agentReports({
    node: 'pi-4',
    address,
    lifecycle: {},
    slots: phones('pi-4', 10, (i) =>
      i === 0 ? { state: 'busy', model: HOSTILE, uptimeSeconds: 30 * 3600 } : {},
    ),
  });
  await rig.relist();
  await waitFor(
    'the refresh',
    async () => (await page.locator('tr.phone td.state').first().textContent()) === 'busy',
    15_000,
  );
  expect(await page.title()).toBe('Device farm');
}, 60_000);

it('wakes a phone chosen by dimension and shows it once ready, with the adb line', async () => {
  const rig = await startGateRig(cleanups);
  const node = await startSleepingNode(cleanups, { enumerateMs: 1500 });
  reportRealNode(rig, 'pi-1', node);
  await rig.relist();
  const page = await openBrowser(cleanups);
  await page.goto(`${rig.url}/wake?device_type=x1s`);
  const headline = () => page.locator('#headline').textContent();
  expect(await headline()).toBe('Waking SM-G980F R58N on pi-1…');
  await keepScreenshot(page, 'gate', 'waking');
  await waitFor('ready', async () => (await headline()) === 'Ready: SM-G980F R58N on pi-1', 20_000);
  expect(await page.locator('#adb').textContent()).toBe('adb -H 127.0.0.1 -P 5037 -s R58N shell');
  await keepScreenshot(page, 'gate', 'ready');

  // Nothing matches: the person reads why, with what exists.
  const res = await page.goto(`${rig.url}/wake?device_type=bluejay`);
  expect(res?.status()).toBe(404);
  expect(await page.locator('h1').textContent()).toBe('no phone has device_type=bluejay');
  expect(await page.locator('body').innerText()).toContain('"x1s":2');
}, 60_000);
