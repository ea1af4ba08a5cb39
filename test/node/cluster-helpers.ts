import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../scripts/load/load-target.ts';
import { waitFor } from './helpers.ts';

/** A real redis-server on a free loopback port, without persistence, owned by the test file that starts it. */
export interface RedisServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (version.error) {
    throw new Error(`redis-server is not installed (${version.error.message}); these tests need a real one: apt-get install -y redis-server`);
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(() => {
    if (exited) throw new Error(`redis-server exited at start:\n${output}`);
    return output.includes('Ready to accept connections');
  }, `redis-server on port ${port} to be ready`);
  return {
    url: `redis://127.0.0.1:${port}`,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await done;
    },
  };
}

/** A port free on loopback right now (the load scripts' helper, shared). */
export { freePort } from '../../scripts/load/load-target.ts';

/**
 * One relay of a group, as an operator runs it: the CLI in its own process, from the sources, on a fixed loopback
 * port (so that a restart comes back at the same address), sharing Redis and the data dir with the others.
 */
export class RelayProcess {
  child: ChildProcess | undefined;
  output = '';
  readonly url: string;

  constructor(
    readonly port: number,
    private readonly args: string[],
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    this.output = '';
    const child = spawn(process.execPath, ['--conditions=@sandbox-terminal/source', '--import', 'tsx', 'server/bin/sandbox-relay.mjs', '--port', String(this.port), '--log-level', process.env.RELAY_TEST_LOG ?? 'warn', ...this.args], {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, RELAY_SECRET: '', RELAY_SECRET_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor(() => {
      if (exited) throw new Error(`the relay on port ${this.port} exited at start:\n${this.output}`);
      return this.output.includes('listening on');
    }, `the relay on port ${this.port} to listen`, 30_000);
  }

  get pid(): number {
    return this.child!.pid!;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends the signal and resolves once the process has exited (with its exit code, or the signal's name). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string | null> {
    const child = this.child;
    if (!child || !this.running) return child?.exitCode ?? null;
    const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, killedBy) => resolve(code ?? killedBy)));
    child.kill(signal);
    return exited;
  }

  /** One sample of a Prometheus metric (summed over the label sets that match `labels`). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const set = Object.fromEntries((match[2] ?? '').split(',').filter(Boolean).map((pair) => pair.split('=').map((part) => part.replace(/^"|"$/g, '')) as [string, string]));
      if (Object.entries(labels).every(([key, value]) => set[key] === value)) sum += Number(match[3]);
    }
    return sum;
  }
}

/** `count` relays on fixed ports sharing `redisUrl` and `dataDir`, started one after another. */
export async function startRelayGroup(count: number, redisUrl: string, dataDir: string, extraArgs: string[] = []): Promise<RelayProcess[]> {
  const relays: RelayProcess[] = [];
  for (let i = 0; i < count; i++) {
    const relay = new RelayProcess(await freePort(), ['--redis-url', redisUrl, '--data-dir', dataDir, '--dev-endpoints', ...extraArgs]);
    await relay.start();
    relays.push(relay);
  }
  return relays;
}

export async function stopRelayGroup(relays: RelayProcess[]): Promise<void> {
  await Promise.all(relays.map((relay) => relay.stop('SIGTERM')));
}
