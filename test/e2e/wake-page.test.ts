/**
 * The wake page as a person sees it: headless Chromium (playwright-core) loads `/`
 * from a real HTTP listener whose lifecycle has two phones asleep behind powered-off
 * USB ports. Loading the page powers the ports on; the phones come back a moment
 * later and the page, polling by itself, turns from "Waking" to "All ready".
 */
import type { Page } from 'playwright-core';
import { afterEach, expect, it } from 'vitest';
import { keepScreenshot, openBrowser as browser } from '../rigs/browser.js';
import { startSleepingNode, type Cleanups } from '../rigs/sleeping-node.js';
import { waitFor } from '../rigs/test-bots.js';

/** A model string a phone could report: it must show as text, never run. */
const HOSTILE_MODEL = '<img src=x onerror="document.title=\'pwned\'">';

const cleanups: Cleanups = [];
const openBrowser = () => browser(cleanups);
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const startNode = () => startSleepingNode(cleanups, { secondModel: HOSTILE_MODEL });

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

  await keepScreenshot(page, 'wake-page', 'all-ready');
});
