/**
 * Headless Chromium (playwright-core, Debian's /usr/bin/chromium) for page tests: a fresh profile,
 * and a check at cleanup that the page asked nothing of anyone but the local listeners (the
 * pages must inline everything). Screenshots go to test-output/ (git-ignored), kept for people.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Cleanups } from './sleeping-node.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

export const TEST_OUTPUT = resolve(import.meta.dirname, '../../test-output');

export async function openBrowser(
  cleanups: Cleanups,
  viewport = { width: 1000, height: 420 },
): Promise<Page> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
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
    viewport,
  });
  cleanups.push(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith('http://127.0.0.1:')) elsewhere.push(request.url());
  });
  cleanups.push(async () => expect(elsewhere).toEqual([]));
  return page;
}

/** Saves a full-page screenshot under test-output/<dir>/<name>.png and returns its path. */
export async function keepScreenshot(page: Page, dir: string, name: string): Promise<string> {
  const folder = join(TEST_OUTPUT, dir);
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}
