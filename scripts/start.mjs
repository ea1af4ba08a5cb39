// `npm start`: the relay and the demo playground on their embedded defaults, in this one process.
// Relay on 127.0.0.1:8787 (RELAY_PORT), demo on http://localhost:5173/ (DEMO_PORT); the demo reaches the relay
// through Vite's proxy. Sessions are kept in ./data (DATA_DIR) so they survive a restart. Ctrl+C stops both.
// The console gets what a person needs: where to go, and the relay's warnings as sentences. RELAY_LOG_LEVEL (info,
// debug, …) shows more; RELAY_LOG_FORMAT=json prints the relay's log lines as the JSON they are.
import { createRequire } from 'node:module';
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
const RELAY_LOG_LEVEL = process.env.RELAY_LOG_LEVEL ?? 'warn';
/** Fields every pino line has, which a person reading the console does not need. */
const LOG_NOISE = new Set(['level', 'time', 'pid', 'hostname', 'msg']);
const LEVEL_NAMES = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };

/** The relay's pino logger (pino as the server package resolves it), writing lines for people, not for machines. */
function consoleLogger() {
  const pino = createRequire(new URL('../server/package.json', import.meta.url))('pino');
  if (process.env.RELAY_LOG_FORMAT === 'json') return pino({ level: RELAY_LOG_LEVEL });
  const destination = {
    write(line) {
      const entry = JSON.parse(line);
      const fields = Object.entries(entry)
        .filter(([key]) => !LOG_NOISE.has(key))
        .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : value}`);
      const text = `relay ${LEVEL_NAMES[entry.level] ?? 'log'}: ${entry.msg}${fields.length ? ` (${fields.join(', ')})` : ''}`;
      (entry.level >= 40 ? process.stderr : process.stdout).write(`${text}\n`);
    },
  };
  return pino({ level: RELAY_LOG_LEVEL }, destination);
}

const { createRelay } = await import('@sandbox-terminal/server');
const { createServer } = await import('vite');

await mkdir(DATA_DIR, { recursive: true });
let relay;
try {
  // devEndpoints: the demo's idle-timeout and "sleep now" controls use the relay's /v1/admin endpoints.
  relay = await createRelay({ host: RELAY_HOST, port: RELAY_PORT, dataDir: DATA_DIR, devEndpoints: true, logger: consoleLogger() });
} catch (error) {
  console.error(`Could not start the relay on ${RELAY_HOST}:${RELAY_PORT}: ${error.message}`);
  if (error.code === 'EADDRINUSE') console.error('Something already listens there; set RELAY_PORT to use another port.');
  process.exit(1);
}

process.env.RELAY_URL = relay.url;
process.env.DEMO_PORT = String(DEMO_PORT);
process.env.DEMO_LOG_LEVEL ??= 'warn';
const vite = await createServer({ configFile: resolve(ROOT, 'vite.config.ts') });
try {
  await vite.listen();
} catch (error) {
  console.error(`Could not start the demo server on port ${DEMO_PORT}: ${error.message}`);
  await relay.close();
  process.exit(1);
}

const demoUrl = vite.resolvedUrls?.local[0] ?? `http://localhost:${DEMO_PORT}/`;
console.log(`Relay listening on ${relay.url} (sessions kept in ${DATA_DIR})`);
console.log(`Open ${demoUrl}`);
console.log('Ctrl+C stops both.');

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
