// Headless Chromium from the system (never downloaded), driven over a bare DevTools protocol connection that only
// evaluates scripts. Not Playwright: it enables the Network domain on every page, and Chromium then reports each
// WebSocket frame (its payload included) to the client. Under a 50 MiB flood that cost more CPU in the browser and
// renderer processes than xterm's own work, and measured the instrumentation instead of the terminals.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { spawnGroup, killGroup } from './processes.mjs';

const ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const START_TIMEOUT_MS = 20_000;
const PAGE_READY_TIMEOUT_MS = 30_000;

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'sandbox-terminal-bench-chromium-'));
  const child = spawnGroup(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', [...ARGS, '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const endpoint = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start: ${text.slice(-1000)}`)), START_TIMEOUT_MS);
    child.stderr.on('data', (chunk) => {
      text += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`chromium exited with ${code}: ${text.slice(-1000)}`)));
  });
  const ws = new WebSocket(endpoint, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 0;
  const pending = new Map();
  const listeners = new Set();
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    if (message.method) for (const listener of listeners) listener(message);
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${message.error.message} ${message.error.data ?? ''}`));
    else waiter.resolve(message.result);
  });
  ws.on('close', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('DevTools connection closed'));
    pending.clear();
  });
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  const { product } = await send('Browser.getVersion');
  const browser = {
    send,
    /** DevTools events (`{ method, params, sessionId }`), for profiling and tracing by hand. */
    onEvent: (listener) => listeners.add(listener),
    async close() {
      await Promise.race([send('Browser.close').catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3_000))]);
      ws.close();
      await killGroup(child);
      rmSync(profile, { recursive: true, force: true });
    },
  };
  return { browser, version: product.replace(/^[^/]*\//, '') };
}

/** A page of its own (a new browser context, so its own renderer process) with a Playwright-like `evaluate`. */
export async function openPage(browser, url, { width = 1000, height = 600, initScript } = {}) {
  const { browserContextId } = await browser.send('Target.createBrowserContext');
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank', width, height, browserContextId });
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
  const page = {
    /** A DevTools command to this page's target (Profiler, Performance …: for profiling by hand). */
    send: (method, params = {}) => browser.send(method, params, sessionId),
    async evaluate(fn, arg) {
      const expression = `(${fn})(${arg === undefined ? '' : JSON.stringify(arg)})`;
      const { result, exceptionDetails } = await browser.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
      if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
      return result.value;
    },
  };
  await browser.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
  await browser.send('Page.navigate', { url }, sessionId);
  const deadline = Date.now() + PAGE_READY_TIMEOUT_MS;
  while ((await page.evaluate(() => document.readyState !== 'complete' || location.href === 'about:blank').catch(() => true)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Pages that are not ours (wetty's) get the bench helpers once loaded.
  if (initScript) await browser.send('Runtime.evaluate', { expression: initScript }, sessionId);
  return {
    page,
    close: async () => {
      await browser.send('Target.closeTarget', { targetId }).catch(() => undefined);
      await browser.send('Target.disposeBrowserContext', { browserContextId }).catch(() => undefined);
    },
  };
}
