import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRelay, type Relay, type RelayOptions } from '@sandbox-terminal/server';
import { getSandbox, type Sandbox } from '@sandbox-terminal/client';
import { TERMINAL_SUBPROTOCOL, parseServerControl, type ServerControlMessage } from '@sandbox-terminal/protocol';
import WebSocket from 'ws';

/** A real relay on a random loopback port, quiet unless RELAY_TEST_LOG is set. */
export async function startRelay(options: RelayOptions = {}): Promise<{ relay: Relay; sandbox: (id?: string) => Sandbox; close: () => Promise<void> }> {
  const relay = await createRelay({ port: 0, host: '127.0.0.1', logger: (process.env.RELAY_TEST_LOG as 'info' | undefined) ?? 'silent', devEndpoints: true, ...options });
  let counter = 0;
  return {
    relay,
    sandbox: (id) => getSandbox(relay.url, id ?? `test-${process.pid}-${++counter}`),
    close: () => relay.close(),
  };
}

/** Polls `check` until it returns a truthy value; fails with `message` after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, message: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A terminal viewer over a real WebSocket: collects output as text and control messages in order. */
export class TerminalClient {
  output = '';
  readonly controls: ServerControlMessage[] = [];
  closeCode: number | undefined;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string, protocols: string[] = [TERMINAL_SUBPROTOCOL]) {
    this.ws = new WebSocket(url, protocols);
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) this.output += data.toString();
      else {
        const message = parseServerControl(data.toString());
        if (message) this.controls.push(message);
        // The current screen on attach: as text it is what the screen shows, which is what these tests look for.
        if (message?.type === 'screen') this.output += message.data;
      }
    });
    this.ws.on('close', (code) => (this.closeCode = code));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  static async open(sandbox: Sandbox, sessionId: string, query: { cols?: number; rows?: number } = {}): Promise<TerminalClient> {
    const client = new TerminalClient(sandbox.terminalUrl(sessionId, query));
    await client.opened;
    await client.waitForControl('ready');
    await client.waitForPrompt();
    return client;
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text), { binary: true });
  }

  control(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  waitForOutput(pattern: string | RegExp, timeoutMs = 10_000): Promise<boolean> {
    return waitFor(() => (typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output)), `terminal output ${pattern}`, timeoutMs);
  }

  /** Bash's prompt ends with '# ' (root) once readline is ready; a restored screen may drop the trailing space. */
  waitForPrompt(timeoutMs = 10_000): Promise<boolean> {
    return waitFor(() => /[#$] ?$/.test(this.output.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '')), 'a shell prompt', timeoutMs);
  }

  waitForControl<T extends ServerControlMessage['type']>(type: T, timeoutMs = 10_000): Promise<Extract<ServerControlMessage, { type: T }>> {
    return waitFor(() => this.controls.find((message) => message.type === type) as Extract<ServerControlMessage, { type: T }> | undefined, `control message ${type}`, timeoutMs);
  }

  waitForClose(timeoutMs = 10_000): Promise<number> {
    return waitFor(() => this.closeCode, 'socket close', timeoutMs);
  }

  close(): void {
    this.ws.close();
  }
}

const spawnedRelays = new Set<ChildProcess>();
// Whatever a failed test left running goes when its file is done.
after(() => {
  for (const child of spawnedRelays) child.kill('SIGKILL');
});

/** The relay CLI (`sandbox-relay`) in its own process, from the sources, as an operator runs it. */
export async function spawnRelayProcess(args: string[], extraEnv: Record<string, string> = {}): Promise<{ url: string; pid: number; kill: (signal?: NodeJS.Signals) => void; exited: Promise<void>; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--conditions=@sandbox-terminal/source', '--import', 'tsx', 'server/bin/sandbox-relay.mjs', '--port', '0', '--log-level', 'warn', ...args], {
    cwd: join(import.meta.dirname, '../..'),
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(output)?.[1], 'the relay to listen', 30_000);
  // A test that fails before it stops the relay must not keep its file's process alive (and the run waiting for it).
  spawnedRelays.add(child);
  void exited.then(() => spawnedRelays.delete(child));
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => void child.kill(signal);
  return { url, pid: child.pid!, kill, exited, stop: () => (kill('SIGTERM'), exited) };
}

/** Host pids whose command line is exactly `args` (a marker process started in a sandbox, seen from the host). */
export function hostPidsRunning(args: string): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ') === args;
    } catch {
      return false;
    }
  });
}
