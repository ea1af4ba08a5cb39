// `npm start`: the relay and the demo playground on their embedded defaults, in this one process.
// Relay on 127.0.0.1:8787 (RELAY_PORT), demo on http://localhost:5173/ (DEMO_PORT); the demo reaches the relay
// through Vite's proxy. Sessions are kept in ./data (DATA_DIR) so they survive a restart. Ctrl+C stops both.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// The relay runs from its TypeScript sources (no build step): see load-sources.mjs.
import './load-sources.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RELAY_HOST = process.env.RELAY_HOST ?? '127.0.0.1';
const RELAY_PORT = Number(process.env.RELAY_PORT ?? 8787);
const DEMO_PORT = Number(process.env.DEMO_PORT ?? 5173);
const DATA_DIR = resolve(ROOT, process.env.DATA_DIR ?? 'data');

const { createRelay } = await import('@sandbox-terminal/server');
const { createServer } = await import('vite');

await mkdir(DATA_DIR, { recursive: true });
let relay;
try {
  // devEndpoints: the demo's idle-timeout and "sleep now" controls use the relay's /v1/admin endpoints.
  relay = await createRelay({ host: RELAY_HOST, port: RELAY_PORT, dataDir: DATA_DIR, devEndpoints: true });
} catch (error) {
  console.error(`Could not start the relay on ${RELAY_HOST}:${RELAY_PORT}: ${error.message}`);
  if (error.code === 'EADDRINUSE') console.error('Something already listens there; set RELAY_PORT to use another port.');
  process.exit(1);
}

process.env.RELAY_URL = relay.url;
process.env.DEMO_PORT = String(DEMO_PORT);
const vite = await createServer({ configFile: resolve(ROOT, 'vite.config.ts'), logLevel: 'warn' });
try {
  await vite.listen();
} catch (error) {
  console.error(`Could not start the demo server on port ${DEMO_PORT}: ${error.message}`);
  await relay.close();
  process.exit(1);
}

const demoUrl = vite.resolvedUrls?.local[0] ?? `http://localhost:${DEMO_PORT}/`;
console.log(`Relay listening on ${relay.url} (data in ${DATA_DIR})`);
console.log(`Open ${demoUrl}`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the demo server and the relay…`);
  await Promise.allSettled([vite.close(), relay.close()]);
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
