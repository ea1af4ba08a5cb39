// Browser tests: real headless Chromium (the system's /usr/bin/chromium; no browser is downloaded), a real relay
// started in this process, real bash. `npm run test:browser`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { findChrome } from './scripts/find-chrome.mjs';

// Before anything starts: without a browser every file would fail with a launch error that says nothing useful.
const chrome = findChrome();
if (chrome.error) {
  console.error(chrome.error);
  process.exit(1);
}
const CHROMIUM_PATH = chrome.path;
/** Sessions in these tests must not fall asleep on their own; the sleep test forces it with `sleep-sandbox`. */
const TEST_IDLE_TIMEOUT_MS = 10 * 60_000;
/** A relay that has not closed by then is reported and left behind, so a stuck shutdown cannot hang the run. */
const RELAY_CLOSE_TIMEOUT_MS = 10_000;
/** The second relay's secret: tests of tokens ask the server for them with `issue-token`. */
const TEST_SECRET = 'browser-test-secret-long-enough-for-hs256-0123456789';
/** One test waits at most this long; waits inside tests have their own, shorter limits. */
const TEST_TIMEOUT_MS = 45_000;
/** Relays a test may stop and start (`extra-relay`): they are named, so the shared ones are never taken down. */
const EXTRA_RELAY_NAME = /^[a-z0-9-]{1,32}$/;

/**
 * Starts the relay with the test server and lets tests reach it through `executeServerCommand`:
 * `relay-info` (its URL), `drop-connections` (close every terminal socket from the server side),
 * `sleep-sandbox` (put a sandbox to sleep now; `relay` names an extra relay) and `set-idle-timeout`. A second relay
 * runs with a secret: `secured-relay-info` gives its URL and `issue-token` a token for it (`{ sandbox, scope,
 * expiresIn }`). Extra relays of a test's own: `extra-relay` (`{ name, limits }`: started once, its URL),
 * `stop-relay` and `start-relay` (`{ name }`: closed, then listening again on the same port with the same data
 * directory, as a restarted relay). `demo-layout` opens the demo page (served by Vite against the first relay) at
 * `{ width, height }` in the test's browser and reports what is wider than the viewport.
 */
function relayPlugin() {
  let relay;
  let securedRelay;
  let dataDir;
  /** name → { relay, options } for `extra-relay`; `relay` is undefined while stopped. */
  const extraRelays = new Map();
  let demoServer;
  let createRelayFn;

  async function startExtraRelay(name, options) {
    const entry = extraRelays.get(name) ?? { options, relay: undefined };
    extraRelays.set(name, entry);
    if (!entry.relay) entry.relay = await createRelayFn(entry.options);
    // The port is kept, so the page reconnects to the same URL after a restart.
    entry.options = { ...entry.options, port: Number(new URL(entry.relay.url).port) };
    return entry.relay;
  }

  function extraRelay(name) {
    const entry = extraRelays.get(name);
    if (!entry?.relay) throw new Error(`no running extra relay "${name}"`);
    return entry.relay;
  }
  return {
    name: 'sandbox-relay',
    async serverStart() {
      // The relay from its TypeScript sources, no build: see scripts/load-sources.mjs.
      await import('./scripts/load-sources.mjs');
      const { createRelay } = await import('@sandbox-terminal/server');
      createRelayFn = createRelay;
      dataDir = await mkdtemp(join(tmpdir(), 'sandbox-terminal-browser-tests-'));
      relay = await createRelay({ port: 0, host: '127.0.0.1', idleTimeoutMs: TEST_IDLE_TIMEOUT_MS, dataDir, logger: 'warn' });
      securedRelay = await createRelay({
        port: 0,
        host: '127.0.0.1',
        idleTimeoutMs: TEST_IDLE_TIMEOUT_MS,
        dataDir: join(dataDir, 'secured'),
        logger: 'warn',
        secret: TEST_SECRET,
      });
    },
    async serverStop() {
      let timer;
      const extras = [...extraRelays.values()].map((entry) => entry.relay?.close());
      const closed = await Promise.race([
        Promise.all([relay?.close(), securedRelay?.close(), ...extras, demoServer?.close()]).then(() => true),
        new Promise((resolve) => (timer = setTimeout(() => resolve(false), RELAY_CLOSE_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (closed === false) console.error(`relay.close() did not finish within ${RELAY_CLOSE_TIMEOUT_MS} ms`);
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
    async executeCommand({ command, payload, session }) {
      switch (command) {
        case 'relay-info':
          return { url: relay.url };
        case 'drop-connections':
          await (payload?.secured ? securedRelay : relay).dropTerminalConnections(payload?.sandbox);
          return true;
        case 'sleep-sandbox':
          await (payload.relay ? extraRelay(payload.relay) : relay).sleepSandbox(payload.sandbox);
          return true;
        case 'extra-relay': {
          if (!EXTRA_RELAY_NAME.test(payload?.name ?? '')) throw new Error('extra-relay needs a name of [a-z0-9-]');
          const options = {
            port: 0,
            host: '127.0.0.1',
            idleTimeoutMs: TEST_IDLE_TIMEOUT_MS,
            dataDir: join(dataDir, `extra-${payload.name}`),
            logger: 'silent',
            ...(payload.limits ? { limits: payload.limits } : {}),
          };
          return { url: (await startExtraRelay(payload.name, options)).url };
        }
        case 'stop-relay': {
          const entry = extraRelays.get(payload?.name);
          if (!entry) throw new Error(`no extra relay "${payload?.name}"`);
          await entry.relay?.close();
          entry.relay = undefined;
          return true;
        }
        case 'start-relay':
          return { url: (await startExtraRelay(payload?.name, extraRelays.get(payload?.name)?.options)).url };
        case 'demo-layout':
          demoServer ??= await startDemoServer(relay.url);
          return measureDemo(session, demoServer.url, payload);
        case 'set-idle-timeout':
          relay.setIdleTimeout(payload.ms);
          return true;
        case 'secured-relay-info':
          return { url: securedRelay.url };
        case 'issue-token': {
          const { issueToken } = await import('@sandbox-terminal/server');
          return { token: await issueToken({ secret: TEST_SECRET, ...payload }) };
        }
        default:
          return undefined;
      }
    },
  };
}

/** The demo (vite.config.ts) on a port of its own, its proxy pointed at the test relay. */
async function startDemoServer(relayUrl) {
  process.env.RELAY_URL = relayUrl;
  const { createServer } = await import('vite');
  const server = await createServer({
    configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)),
    server: { port: 0, strictPort: false, host: '127.0.0.1' },
    logLevel: 'silent',
  });
  await server.listen();
  return { url: server.resolvedUrls.local[0], close: () => server.close() };
}

/**
 * Loads the demo in a new page of the test's own browser at the given size, waits for its terminal to connect, and
 * reports the page's width against the viewport's and the elements that reach past it.
 */
async function measureDemo(session, demoUrl, { width, height = 844, theme = 'dark' }) {
  const testPage = session.browser.getPage(session.id);
  const page = await testPage.context().newPage();
  try {
    await page.setViewportSize({ width, height });
    await page.addInitScript((value) => localStorage.setItem('demo-theme', value), theme);
    await page.goto(demoUrl);
    await page.waitForFunction(() => document.querySelector('#single-terminal')?.status?.state === 'connected', null, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('#session-tabs')?.terminalFor?.()?.status?.state === 'connected', null, { timeout: 30_000 });
    return await page.evaluate(() => {
      const viewport = document.documentElement.clientWidth;
      const describe = (element) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${[...element.classList].map((name) => `.${name}`).join('')}`;
      const overflowing = [...document.querySelectorAll('body *')]
        .filter((element) => {
          const box = element.getBoundingClientRect();
          return box.width > 0 && box.right > viewport + 0.5 && !element.closest('.table-scroll, pre, .snippet-box, [data-scrolls]');
        })
        .slice(0, 20)
        .map((element) => `${describe(element)} right=${Math.round(element.getBoundingClientRect().right)}`);
      const tabs = document.querySelector('#session-tabs');
      const activeTab = tabs?.shadowRoot?.querySelector('[role="tab"][aria-selected="true"] [part="tab-label"]');
      const link = document.querySelector('.toc a');
      return {
        viewport,
        scrollWidth: document.documentElement.scrollWidth,
        overflowing,
        activeTabLabelWidth: activeTab?.getBoundingClientRect().width ?? 0,
        link: link ? { color: getComputedStyle(link).color, background: getComputedStyle(document.documentElement).backgroundColor } : undefined,
      };
    });
  } finally {
    await page.close();
  }
}

export default {
  rootDir: '.',
  files: ['test/browser/**/*.test.ts'],
  // The page imports the workspace packages' src/*.ts (their `@sandbox-terminal/source` export condition), no build;
  // `development` is the condition web-test-runner uses by default (Lit's development build).
  nodeResolve: { exportConditions: ['@sandbox-terminal/source', 'development'] },
  concurrency: 2,
  concurrentBrowsers: 1,
  testsFinishTimeout: 180_000,
  // Lit announces its development build once per page; everything else the page logs is shown.
  filterBrowserLogs: ({ args }) => !String(args[0]).startsWith('Lit is in dev mode'),
  testFramework: { config: { timeout: TEST_TIMEOUT_MS, ui: 'bdd' } },
  browsers: [
    playwrightLauncher({
      product: 'chromium',
      launchOptions: {
        executablePath: CHROMIUM_PATH,
        args: [
          '--no-sandbox',
          '--headless',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      },
    }),
  ],
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: fileURLToPath(new URL('./tsconfig.base.json', import.meta.url)) }), relayPlugin()],
};
