// Browser tests: real headless Chromium (the system's /usr/bin/chromium; no browser is downloaded), a real relay
// started in this process, real bash. `npm run test:browser`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { playwrightLauncher } from '@web/test-runner-playwright';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Sessions in these tests must not fall asleep on their own; the sleep test forces it with `sleep-sandbox`. */
const TEST_IDLE_TIMEOUT_MS = 10 * 60_000;
/** A relay that has not closed by then is reported and left behind, so a stuck shutdown cannot hang the run. */
const RELAY_CLOSE_TIMEOUT_MS = 10_000;
/** The second relay's secret: tests of tokens ask the server for them with `issue-token`. */
const TEST_SECRET = 'browser-test-secret-long-enough-for-hs256-0123456789';
/** One test waits at most this long; waits inside tests have their own, shorter limits. */
const TEST_TIMEOUT_MS = 45_000;

/**
 * Starts the relay with the test server and lets tests reach it through `executeServerCommand`:
 * `relay-info` (its URL), `drop-connections` (close every terminal socket from the server side),
 * `sleep-sandbox` (put a sandbox to sleep now) and `set-idle-timeout`. A second relay runs with a secret:
 * `secured-relay-info` gives its URL and `issue-token` a token for it (`{ sandbox, scope, expiresIn }`).
 */
function relayPlugin() {
  let relay;
  let securedRelay;
  let dataDir;
  return {
    name: 'sandbox-relay',
    async serverStart() {
      // The relay from its TypeScript sources, no build: see scripts/load-sources.mjs.
      await import('./scripts/load-sources.mjs');
      const { createRelay } = await import('@sandbox-terminal/server');
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
      const closed = await Promise.race([
        Promise.all([relay?.close(), securedRelay?.close()]).then(() => true),
        new Promise((resolve) => (timer = setTimeout(() => resolve(false), RELAY_CLOSE_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (closed === false) console.error(`relay.close() did not finish within ${RELAY_CLOSE_TIMEOUT_MS} ms`);
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
    async executeCommand({ command, payload }) {
      switch (command) {
        case 'relay-info':
          return { url: relay.url };
        case 'drop-connections':
          await (payload?.secured ? securedRelay : relay).dropTerminalConnections(payload?.sandbox);
          return true;
        case 'sleep-sandbox':
          await relay.sleepSandbox(payload.sandbox);
          return true;
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
