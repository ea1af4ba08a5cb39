// The peers the bench compares against live in bench/.peers (gitignored, pinned versions in its package.json), never
// in the project's dependencies. Installed on first use.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { spawnGroup, killGroup } from './processes.mjs';

export const PEERS_DIR = fileURLToPath(new URL('../.peers/', import.meta.url));
const WETTY_MAIN = `${PEERS_DIR}node_modules/wetty/build/main.js`;
const START_TIMEOUT_MS = 20_000;

export async function ensurePeers() {
  if (existsSync(WETTY_MAIN) && existsSync(`${PEERS_DIR}node_modules/@cloudflare/sandbox/package.json`)) return;
  console.error('bench: installing the peers into bench/.peers (wetty, @cloudflare/sandbox) …');
  // --legacy-peer-deps: the sandbox SDK's optional peers (agent frameworks) are not needed to bundle its xterm addon.
  await promisify(execFile)('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund', '--legacy-peer-deps', '--omit=peer'], {
    env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
  });
}

export function peerVersion(name) {
  return JSON.parse(readFileSync(`${PEERS_DIR}node_modules/${name}/package.json`, 'utf8')).version;
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * wetty serving `bash` on loopback. As root and on localhost it runs the command itself (no ssh, no login):
 * `/usr/bin/env -S bash` on a node-pty PTY, output over socket.io.
 */
export async function startWetty() {
  const port = await freePort();
  const child = spawnGroup(process.execPath, [WETTY_MAIN, '--host', '127.0.0.1', '--port', String(port), '--command', 'bash', '--log-level', 'warn'], {
    cwd: PEERS_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: process.env.HOME ?? '/root' },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wetty exited with ${child.exitCode}: ${output.slice(-2000)}`);
    const ok = await fetch(url).then((response) => response.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`wetty did not answer on ${url}: ${output.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, pid: child.pid, close: () => killGroup(child) };
}
