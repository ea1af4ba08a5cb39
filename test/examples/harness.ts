// What every example test shares: build the site with `npm run build` in its folder (the relay URL from
// SANDBOX_RELAY_URL), a real guest relay with the examples' template, a static server for the built site, and
// Chromium (the system's) driving it as readers would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createRelay, type Relay } from '@sandbox-terminal/server';
import { freePort } from '../../scripts/load/load-target.ts';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SECRET = 'examples-test-secret-long-enough-for-hs256-0123456789';
/** A site generator's production build on a busy two-core machine (Docusaurus is the slowest, about a minute alone). */
export const BUILD_TIMEOUT_MS = 8 * 60_000;
/** Every reader of a test run comes from 127.0.0.1: the per-address guest limit must let them all in. */
const READERS_PER_RUN = 50;
/** One wait for something a reader would see. */
export const STEP_TIMEOUT_MS = 30_000;

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.map': 'application/json' };

export interface ExampleSite {
  relay: Relay;
  siteUrl: string;
  browser: Browser;
  buildMs: number;
  close(): Promise<void>;
}


/** Serves a built site: `/x/` and `/x` find `x/index.html` or `x.html`, as the generators' hosting docs expect. */
async function serveStatic(dir: string): Promise<Server> {
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://site').pathname)).replace(/^(\.\.[/\\])+/, '');
    for (const candidate of [path, join(path, 'index.html'), `${path}.html`]) {
      const file = join(dir, candidate);
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) continue;
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(response);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Builds the example against a relay on a free port, starts that relay (guest mode, the template) and serves the site. */
export async function startExample(name: string, outputDir: string): Promise<ExampleSite> {
  const port = await freePort();
  const relayUrl = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(NODE_OPTIONS|npm_.*)$/.test(key)));
  try {
    await run('npm', ['run', 'build'], { cwd: join(ROOT, 'examples', name), env: { ...env, SANDBOX_RELAY_URL: relayUrl }, timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run build in examples/${name} failed:\n${stdout?.slice(-3000) ?? ''}\n${stderr?.slice(-3000) ?? ''}`);
  }
  const buildMs = performance.now() - started;
  const dataDir = await mkdtemp(join(tmpdir(), `sandbox-example-${name}-`));
  const relay = await createRelay({ port, host: '127.0.0.1', logger: 'silent', secret: SECRET, guest: { limits: { guestSandboxesPerAddress: READERS_PER_RUN } }, dataDir, templates: { tutorial: join(ROOT, 'examples', 'shared', 'template') } });
  const server = await serveStatic(join(ROOT, 'examples', name, outputDir));
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const siteUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    relay,
    siteUrl,
    browser,
    buildMs,
    async close() {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
      await relay.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A reader: a browser context of its own (its own localStorage, so its own guest sandbox). */
export async function newReader(site: ExampleSite): Promise<{ context: BrowserContext; page: Page }> {
  const context = await site.browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  return { context, page };
}

/** The controls under the block whose step is `step`. */
export function controls(page: Page, step: string): Locator {
  return page.locator(`[data-sandbox-step="${step}"] + sandbox-run-controls`);
}

export async function runStep(page: Page, step: string, button = 'Run'): Promise<string> {
  const block = controls(page, step);
  await block.getByRole('button', { name: button, exact: true }).click();
  const status = block.locator('[part="status"]');
  await assert.doesNotReject(status.filter({ hasText: button === 'Run' ? /Exit \d+|Error|Stopped|Timed out/ : /Saved|Error/ }).waitFor(), `step ${step} did not finish`);
  return (await status.textContent())?.trim() ?? '';
}

export async function outputOf(page: Page, step: string): Promise<string> {
  return ((await controls(page, step).locator('[part="output"]').textContent()) ?? '').trim();
}

/** The dock's Reset sandbox, confirmed. */
export async function resetSandbox(page: Page): Promise<void> {
  const dock = page.locator('sandbox-docs-dock');
  await dock.getByRole('button', { name: 'Reset sandbox' }).click();
  const reset = page.evaluate(() => new Promise<void>((resolve) => document.addEventListener('sandbox-reset', () => resolve(), { once: true })));
  await dock.getByRole('button', { name: 'Reset', exact: true }).click();
  await reset;
}

/** The guest credentials the page keeps in localStorage (what a reader's browser holds). */
export async function guestCredentials(page: Page): Promise<{ sandbox: string; token: string }> {
  return page.evaluate(() => {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i)!;
      if (key.startsWith('sandbox-terminal-docs:guest:')) return JSON.parse(localStorage.getItem(key)!) as { sandbox: string; token: string };
    }
    throw new Error('no guest credentials in localStorage');
  });
}
