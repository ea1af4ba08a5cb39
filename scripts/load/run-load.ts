import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSandbox, type Sandbox } from '@sandbox-terminal/client';
import type { Balance } from './haproxy-config.ts';
import { startLoadTarget } from './load-target.ts';
import { endMarker, generatorCommand, STOP_FILE, StreamingTerminal } from './streaming-terminal.ts';

export interface LoadOptions {
  /** Terminal viewers streaming output, one session each. */
  terminals: number;
  /** Loops running `exec` back to back, each in a session of its own. */
  execLoops: number;
  durationMs: number;
  /** Sessions per sandbox (the terminals and the exec loops are spread over sandboxes of this many). */
  sessionsPerSandbox?: number;
  /** Generator lines per burst and the pause after each: sets each terminal's output rate. */
  linesPerBurst?: number;
  burstPauseSeconds?: number;
  /** Relay processes: 1 (default), or a group sharing Redis and the data dir behind HAProxy. */
  relays?: number;
  /** With several relays: how HAProxy spreads calls (`hash` on the sandbox path segment, or `roundrobin`). */
  balance?: Balance;
  /** Called once a second with the elapsed time and the relay's RSS. */
  onSample?: (sample: MemorySample) => void;
}

export interface MemorySample {
  elapsedMs: number;
  /** The relay process alone (all relay processes, summed, with several). */
  relayRssBytes: number;
  /** The relay and every process under it (bwrap, shells, commands), RSS summed (shared pages count more than once). */
  treeRssBytes: number;
}

export interface LoadReport {
  options: Required<Omit<LoadOptions, 'onSample'>>;
  durationMs: number;
  terminalBytes: number;
  terminalLines: number;
  /** The fewest numbered lines any one terminal received: 0 would mean a stream never started. */
  fewestTerminalLines: number;
  execs: number;
  execLatencyMs: { p50: number; p99: number; max: number };
  errors: string[];
  relayRss: { startBytes: number; peakBytes: number; endBytes: number };
  treeRssPeakBytes: number;
  relayCpuSeconds: number;
  /** Calls one relay passed to another (several relays only). */
  forwarded: { http: number; websocket: number };
}

/** A common browser terminal's size: the relay's screen mirror of each session (and so its memory) scales with it. */
const TERMINAL_COLS = 120;
const TERMINAL_ROWS = 40;
const END_MARKER_TIMEOUT_MS = 30_000;

/**
 * Runs the load: a relay in its own process (or `relays` of them sharing Redis behind HAProxy), `terminals` viewers each watching a session print numbered lines, and
 * `execLoops` sessions running `exec` back to back, for `durationMs`. Every stream is checked for gaps and every exec
 * for its exact output; the relay's memory is sampled each second. Cleans up the relay and its sandboxes.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const settings = {
    sessionsPerSandbox: 10,
    linesPerBurst: 50,
    burstPauseSeconds: 0.1,
    relays: 1,
    balance: 'hash' as Balance,
    ...options,
  };
  const { onSample, ...reported } = settings;
  const dataDir = await mkdtemp(join(tmpdir(), 'sandbox-terminal-load-'));
  const relay = await startLoadTarget({ relays: settings.relays, balance: settings.balance, dataDir });
  const errors: string[] = [];
  const samples: MemorySample[] = [];
  const terminals: StreamingTerminal[] = [];
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    const { next: sandboxFor, all: sandboxes } = sandboxAllocator(relay.url, settings.sessionsPerSandbox);
    const started = performance.now();
    const sample = async () => {
      const memory = await memoryOf(relay.relayPids);
      const entry = { elapsedMs: performance.now() - started, ...memory };
      samples.push(entry);
      onSample?.(entry);
    };
    await sample();

    for (let i = 0; i < settings.terminals; i++) {
      const sandbox = sandboxFor();
      const session = await sandbox.createSession();
      const terminal = new StreamingTerminal(sandbox.terminalUrl(session, { cols: TERMINAL_COLS, rows: TERMINAL_ROWS }));
      terminals.push(terminal);
      await terminal.opened;
    }
    terminals.forEach((terminal, index) => terminal.type(generatorCommand(index, settings.linesPerBurst, settings.burstPauseSeconds)));
    const execSessions: Array<{ sandbox: Sandbox; session: string }> = [];
    for (let i = 0; i < settings.execLoops; i++) {
      const sandbox = sandboxFor();
      execSessions.push({ sandbox, session: await sandbox.createSession() });
    }

    sampler = setInterval(() => void sample(), 1_000);
    const loadStarted = performance.now();
    const deadline = loadStarted + settings.durationMs;
    const latencies: number[] = [];
    await Promise.all(execSessions.map(({ sandbox, session }, loop) => execLoop(sandbox, session, loop, deadline, latencies, errors)));
    const remaining = deadline - performance.now();
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    const durationMs = performance.now() - loadStarted;

    // Stop every generator; each then prints its end marker, so its stream is known to be whole up to there.
    await Promise.all(sandboxes().map((sandbox) => sandbox.exec(`touch ${STOP_FILE}`)));
    await Promise.all(
      terminals.map(async (terminal, index) => {
        try {
          await terminal.waitFor(endMarker(index), END_MARKER_TIMEOUT_MS);
        } catch (error) {
          errors.push(`terminal ${index}: ${(error as Error).message}`);
        }
      }),
    );
    clearInterval(sampler);
    await sample();
    terminals.forEach((terminal, index) => errors.push(...terminal.problems().map((problem) => `terminal ${index}: ${problem}`)));
    for (const pid of relay.relayPids) if (!processAlive(pid)) errors.push(`the relay process ${pid} exited during the run`);
    const forwarded = await relay.forwarded();
    const sorted = [...latencies].sort((a, b) => a - b);
    const rss = samples.map((entry) => entry.relayRssBytes);
    return {
      options: reported,
      durationMs,
      terminalBytes: terminals.reduce((sum, terminal) => sum + terminal.bytes, 0),
      terminalLines: terminals.reduce((sum, terminal) => sum + terminal.lastSeq, 0),
      fewestTerminalLines: Math.min(...terminals.map((terminal) => terminal.lastSeq)),
      execs: latencies.length,
      execLatencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0 },
      errors,
      relayRss: { startBytes: rss[0]!, peakBytes: Math.max(...rss), endBytes: rss.at(-1)! },
      treeRssPeakBytes: Math.max(...samples.map((entry) => entry.treeRssBytes)),
      relayCpuSeconds: (await Promise.all(relay.relayPids.map(cpuSecondsOf))).reduce((sum, seconds) => sum + seconds, 0),
      forwarded,
    };
  } finally {
    clearInterval(sampler);
    for (const terminal of terminals) terminal.close();
    await relay.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Each exec prints a value the shell computes from the loop and iteration: a wrong or stale answer is caught. */
async function execLoop(sandbox: Sandbox, session: string, loop: number, deadline: number, latencies: number[], errors: string[]): Promise<void> {
  for (let i = 1; performance.now() < deadline; i++) {
    const start = performance.now();
    try {
      const result = await sandbox.exec(`echo $((${loop} * 100000 + ${i}))`, { session });
      latencies.push(performance.now() - start);
      const expected = `${loop * 100000 + i}\n`;
      if (result.exitCode !== 0 || result.stdout !== expected) {
        errors.push(`exec loop ${loop}, iteration ${i}: exit ${result.exitCode}, stdout ${JSON.stringify(result.stdout)} (expected ${JSON.stringify(expected)})`);
      }
    } catch (error) {
      errors.push(`exec loop ${loop}, iteration ${i}: ${(error as Error).message}`);
    }
  }
}

/** Sandboxes of `sessionsPerSandbox` sessions each, opened as they are needed. */
function sandboxAllocator(relayUrl: string, sessionsPerSandbox: number): { next: () => Sandbox; all: () => Sandbox[] } {
  const tag = Math.random().toString(36).slice(2, 8);
  const sandboxes: Sandbox[] = [];
  let sessions = 0;
  return {
    next: () => {
      const index = Math.floor(sessions++ / sessionsPerSandbox);
      return (sandboxes[index] ??= getSandbox(relayUrl, `load-${tag}-${index}`));
    },
    all: () => [...sandboxes],
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function memoryOf(pids: number[]): Promise<{ relayRssBytes: number; treeRssBytes: number }> {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      rss.set(Number(entry), Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  let tree = 0;
  const pending = [...pids];
  while (pending.length) {
    const next = pending.pop()!;
    tree += rss.get(next) ?? 0;
    pending.push(...(children.get(next) ?? []));
  }
  return { relayRssBytes: pids.reduce((sum, pid) => sum + (rss.get(pid) ?? 0), 0), treeRssBytes: tree };
}

async function cpuSecondsOf(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // utime and stime: fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : 0;
}
