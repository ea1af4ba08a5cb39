import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { haproxyConfig, type Balance } from './haproxy-config.ts';

/** What the load is sent to: one relay, or a group of relays sharing Redis and a data dir behind HAProxy. */
export interface LoadTarget {
  /** Where clients connect: the relay, or HAProxy in front of the group. */
  url: string;
  /** The relay processes (their memory and CPU are what the report measures). */
  relayPids: number[];
  /** Calls the relays passed to one another, read from their /metrics at the end. */
  forwarded(): Promise<{ http: number; websocket: number }>;
  stop(): Promise<void>;
}

const RELAY_SCRIPT = fileURLToPath(new URL('./relay-process.ts', import.meta.url));
const SETUP_TIMEOUT_MS = 60_000;

export async function startLoadTarget(options: { relays: number; balance: Balance; dataDir: string }): Promise<LoadTarget> {
  if (options.relays <= 1) {
    const relay = await startRelayProcess([options.dataDir]);
    return { url: relay.url, relayPids: [relay.process.pid!], forwarded: async () => ({ http: 0, websocket: 0 }), stop: () => stopProcess(relay.process) };
  }
  const started: ChildProcess[] = [];
  try {
    const { process: redis, url: redisUrl } = await startRedisServer();
    started.push(redis);
    const relays: Array<{ process: ChildProcess; url: string }> = [];
    for (let i = 0; i < options.relays; i++) {
      const relay = await startRelayProcess([options.dataDir, redisUrl, String(await freePort())]);
      started.push(relay.process);
      relays.push(relay);
    }
    const proxyPort = await freePort();
    const config = join(options.dataDir, 'haproxy.cfg');
    await writeFile(config, haproxyConfig({ bind: `127.0.0.1:${proxyPort}`, balance: options.balance, relays: relays.map((relay, i) => ({ name: `relay${i + 1}`, address: new URL(relay.url).host })) }));
    const haproxy = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'inherit', 'inherit'] });
    haproxy.once('error', () => undefined); // a missing binary shows as its exit code below
    started.push(haproxy);
    const url = `http://127.0.0.1:${proxyPort}`;
    await waitForHealthy(url, haproxy);
    return {
      url,
      relayPids: relays.map((relay) => relay.process.pid!),
      forwarded: async () => {
        const totals = { http: 0, websocket: 0 };
        for (const relay of relays) {
          const text = await (await fetch(`${relay.url}/metrics`)).text();
          for (const match of text.matchAll(/^sandbox_relay_forwarded_requests_total\{kind="(http|websocket)",outcome="ok"\} (\d+)/gm)) totals[match[1] as 'http' | 'websocket'] += Number(match[2]);
        }
        return totals;
      },
      // Relays first (they save sessions to Redis as they stop), then what they needed.
      stop: async () => {
        await Promise.all(relays.map((relay) => stopProcess(relay.process)));
        await stopProcess(haproxy);
        await stopProcess(redis);
      },
    };
  } catch (error) {
    await Promise.all(started.map((child) => stopProcess(child)));
    throw error;
  }
}

/** `relay-process.ts` in a process of its own; `args`: data dir [, Redis URL, port]. */
export async function startRelayProcess(args: string[]): Promise<{ process: ChildProcess; url: string }> {
  // The same loader flags as this process (source condition, tsx), so the relay runs from the same sources.
  const child = spawn(process.execPath, [...process.execArgv, RELAY_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the relay did not start in time')), SETUP_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`the relay exited with ${code} before listening`)));
    // Everything else it prints is its log: passed on (and read, so a full pipe never blocks the relay).
    lines.on('line', (line) => {
      const announced = /^RELAY_URL (\S+)$/.exec(line);
      if (!announced) return void process.stderr.write(`relay: ${line}\n`);
      clearTimeout(timer);
      resolve(announced[1]!);
    });
  });
  return { process: child, url };
}

/** A redis-server on a free loopback port, without persistence. */
export async function startRedisServer(): Promise<{ process: ChildProcess; url: string }> {
  const port = await freePort();
  const child = await startLogged('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], 'Ready to accept connections');
  return { process: child, url: `redis://127.0.0.1:${port}` };
}

function startLogged(command: string, args: string[], readyLine: string): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${command} did not start in time:\n${output}`)), SETUP_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(readyLine)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (error) => reject(new Error(`${command} could not start (${error.message}); install it: apt-get install -y ${command}`)));
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}:\n${output}`)));
  });
}

/** HAProxy marks servers up after its health checks (`rise 2`): wait until a call goes through. */
async function waitForHealthy(url: string, haproxy: ChildProcess): Promise<void> {
  const deadline = Date.now() + SETUP_TIMEOUT_MS;
  for (;;) {
    if (haproxy.exitCode !== null) throw new Error(`haproxy exited with ${haproxy.exitCode} (is Debian's haproxy installed? apt-get install -y haproxy)`);
    const status = await fetch(`${url}/healthz`).then((response) => response.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`HAProxy at ${url} never answered /healthz with 200 (last: ${status})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
