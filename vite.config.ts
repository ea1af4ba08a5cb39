import { fileURLToPath } from 'node:url';
import { createLogger, defaultClientConditions, defineConfig, type LogLevel, type Logger } from 'vite';

/**
 * Serves the demo playground (demo/). The page talks to the relay through this server's proxy, so page and relay
 * share an origin and the demo needs no CORS set-up; `RELAY_URL` says where the relay listens.
 */
const RELAY_URL = process.env.RELAY_URL ?? process.env.VITE_RELAY_URL ?? 'http://127.0.0.1:8787';
const DEMO_PORT = Number(process.env.DEMO_PORT ?? 5173);

/** A relay the proxy cannot reach is said once this often, not for every request and reconnection attempt. */
const RELAY_DOWN_NOTICE_MS = 30_000;

/**
 * Vite's logger, without the proxy's stack traces for things that are no error: a page reload resets its terminal
 * sockets (ECONNRESET, EPIPE), and a relay that is down (ECONNREFUSED) is one line now and then. `DEMO_LOG_LEVEL`
 * sets the level (`npm start` uses `warn`).
 */
function demoLogger(): Logger {
  const logger = createLogger((process.env.DEMO_LOG_LEVEL as LogLevel | undefined) ?? 'info');
  const logError = logger.error.bind(logger);
  let relayDownSaidAt = -Infinity;
  logger.error = (message, options) => {
    const code = (options?.error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ECONNRESET' || code === 'EPIPE') return;
    if (code === 'ECONNREFUSED') {
      if (performance.now() - relayDownSaidAt < RELAY_DOWN_NOTICE_MS) return;
      relayDownSaidAt = performance.now();
      logger.warn(`demo: cannot reach the relay at ${RELAY_URL} (connection refused); the page keeps retrying`, { timestamp: true });
      return;
    }
    logError(message, options);
  };
  return logger;
}

const relayProxy = {
  '/v1': { target: RELAY_URL, ws: true, changeOrigin: true },
  '/healthz': { target: RELAY_URL, changeOrigin: true },
};

export default defineConfig({
  root: fileURLToPath(new URL('./demo', import.meta.url)),
  customLogger: demoLogger(),
  server: {
    port: DEMO_PORT,
    strictPort: true,
    proxy: relayProxy,
  },
  // The workspace packages from their src/*.ts (their exports' `@sandbox-terminal/source` condition): no build needed.
  resolve: { conditions: ['@sandbox-terminal/source', ...defaultClientConditions] },
  preview: { port: DEMO_PORT, strictPort: true, proxy: relayProxy },
  define: {
    __RELAY_TARGET__: JSON.stringify(RELAY_URL),
  },
  build: { outDir: fileURLToPath(new URL('./dist/demo', import.meta.url)), emptyOutDir: true, target: 'es2022' },
});
