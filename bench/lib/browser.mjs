// Headless Chromium from the system (never downloaded), with the launch flags known to work on these machines.
import { chromium } from 'playwright-core';

const ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launchBrowser() {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
  const version = browser.version();
  return { browser, version };
}

/** A page in a context of its own (its own renderer process), failing loudly on page errors. */
export async function openPage(browser, url, { width = 1000, height = 600, initScript } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[page] ${error.message}`));
  if (initScript) await page.addInitScript({ content: initScript });
  await page.goto(url);
  return { page, close: () => context.close() };
}
