// `npm run screenshot`: starts the relay and the demo (scripts/start.mjs, on ports of their own and a throwaway data
// directory), drives the page in the system's Chromium a little, and writes docs/screenshot.png for the README and
// docs/screenshot-phone.png (the same page at a phone's 390 px).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { findChrome } from './find-chrome.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUTPUT = join(ROOT, 'docs', 'screenshot.png');
const PHONE_OUTPUT = join(ROOT, 'docs', 'screenshot-phone.png');
/** An iPhone 14's CSS viewport; drawn at twice that in pixels, as the phone does. */
const PHONE_VIEWPORT = { width: 390, height: 1100 };
const PHONE_SCALE = 2;
const chrome = findChrome();
if (chrome.error) {
  console.error(chrome.error);
  process.exit(1);
}
const CHROMIUM_PATH = chrome.path;
const RELAY_PORT = process.env.SCREENSHOT_RELAY_PORT ?? '8797';
const DEMO_PORT = process.env.SCREENSHOT_DEMO_PORT ?? '5183';
const STARTUP_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 20_000;
const VIEWPORT = { width: 1280, height: 1480 };

const dataDir = await mkdtemp(join(tmpdir(), 'sandbox-terminal-screenshot-'));
const server = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], {
  cwd: ROOT,
  env: { ...process.env, RELAY_PORT, DEMO_PORT, DATA_DIR: dataDir },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let browser;
try {
  const demoUrl = await waitForLine(server, /^Open (\S+)/, STARTUP_TIMEOUT_MS);
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  await page.goto(demoUrl);
  await page.waitForFunction(() => document.querySelector('#single-terminal')?.status?.state === 'connected');

  await typeIn(page, '#single-terminal', 'mkdir -p /workspace/hello && cd /workspace/hello');
  await typeIn(page, '#single-terminal', 'printf "print(\\"hello from the sandbox\\")\\n" > hello.py && python3 hello.py');
  await waitForScreen(page, '#single-terminal', 'hello from the sandbox');
  await typeIn(page, '#single-terminal', 'ls -la && uname -srm');
  await waitForScreen(page, '#single-terminal', 'hello.py');

  await page.waitForFunction(() => document.querySelector('#session-tabs')?.terminalFor?.()?.status?.state === 'connected');
  await page.evaluate(async () => {
    const tabs = document.querySelector('#session-tabs');
    const first = tabs.activeSessionId;
    tabs.renameTab(first, 'server');
    const second = await tabs.addTab();
    tabs.renameTab(second, 'tests');
    tabs.selectTab(first);
  });
  await page.evaluate(() => document.querySelector('#session-tabs').terminalFor().focus());
  await page.keyboard.type('seq 1 5 | while read n; do echo "request $n: 200 OK"; done');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => {
    const terminal = document.querySelector('#session-tabs').terminalFor().terminal;
    const buffer = terminal.buffer.active;
    for (let i = 0; i < buffer.length; i++) if (buffer.getLine(i)?.translateToString(true).includes('request 5: 200 OK')) return true;
    return false;
  });
  await page.evaluate(() => {
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: OUTPUT });
  console.log(`wrote ${OUTPUT}`);

  // The same sessions on a phone: a page with the first one's localStorage reattaches to them (persist-key), at 390 px.
  const storageState = await page.context().storageState();
  const phoneContext = await browser.newContext({ storageState, viewport: PHONE_VIEWPORT, deviceScaleFactor: PHONE_SCALE, isMobile: true, hasTouch: true });
  const phone = await phoneContext.newPage();
  phone.setDefaultTimeout(STEP_TIMEOUT_MS);
  await phone.goto(demoUrl);
  await phone.waitForFunction(() => document.querySelector('#single-terminal')?.status?.state === 'connected');
  await phone.waitForFunction(() => document.querySelector('#session-tabs')?.terminalFor?.()?.status?.state === 'connected');
  await waitForScreen(phone, '#single-terminal', 'hello.py');
  await phone.screenshot({ path: PHONE_OUTPUT });
  console.log(`wrote ${PHONE_OUTPUT}`);
} finally {
  await browser?.close();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await rm(dataDir, { recursive: true, force: true });
}

/** Types a line once the shell shows its prompt (typed ahead, it would be echoed before the prompt). */
async function typeIn(page, selector, line) {
  await page.waitForFunction((target) => {
    const buffer = document.querySelector(target).terminal.buffer.active;
    const text = buffer.getLine(buffer.baseY + buffer.cursorY)?.translateToString(true) ?? '';
    return /[#$] $/.test(text);
  }, selector);
  await page.evaluate((target) => document.querySelector(target).focus(), selector);
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

async function waitForScreen(page, selector, text) {
  await page.waitForFunction(
    ([target, wanted]) => {
      const buffer = document.querySelector(target).terminal.buffer.active;
      for (let i = 0; i < buffer.length; i++) if (buffer.getLine(i)?.translateToString(true).trim() === wanted || buffer.getLine(i)?.translateToString(true).endsWith(wanted)) return true;
      return false;
    },
    [selector, text],
  );
}

function waitForLine(child, pattern, timeoutMs) {
  return new Promise((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error(`start.mjs did not print ${pattern} within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`start.mjs exited with code ${code} before it was ready`)));
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      pending += chunk.toString();
      for (const line of pending.split('\n')) {
        const match = pattern.exec(line.trim());
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      }
    });
  });
}
