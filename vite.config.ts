import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

/**
 * Serves the demo playground (demo/). The page talks to the relay through this server's proxy, so page and relay
 * share an origin and the demo needs no CORS set-up; `RELAY_URL` says where the relay listens.
 */
const RELAY_URL = process.env.RELAY_URL ?? process.env.VITE_RELAY_URL ?? 'http://127.0.0.1:8787';
const DEMO_PORT = Number(process.env.DEMO_PORT ?? 5173);

const relayProxy = {
  '/v1': { target: RELAY_URL, ws: true, changeOrigin: true },
  '/healthz': { target: RELAY_URL, changeOrigin: true },
};

export default defineConfig({
  root: fileURLToPath(new URL('./demo', import.meta.url)),
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
