// Workload 5, capacity: 1 000 idle sessions across 10 sandboxes in a relay of its own (its RSS, and the proportional
// set size, PSS from /proc/<pid>/smaps_rollup, of the relay and every process below it: shared pages such as bash's
// code are split between the processes sharing them instead of counted once per shell); then, in another relay,
// 100 sessions that stream numbered lines (as `npm run load` does) to Node viewers that acknowledge like a browser
// keeping up, and the relay's RSS per streaming terminal.
import { readdirSync, readFileSync } from 'node:fs';
import { getSandbox } from '@sandbox-terminal/client';
import { apiPaths } from '@sandbox-terminal/protocol';
import { MIRROR_REST_AFTER_MS } from '../../server/src/session/screen-mirror.ts';
import { startRelay } from '../lib/relay-process.mjs';
import { endMarker, generatorCommand, STOP_FILE, StreamingTerminal } from '../../scripts/load/streaming-terminal.ts';

export const IDLE_SESSIONS = 1_000;
const IDLE_SANDBOXES = 10;
const STREAMING_SESSIONS = 100;
const STREAMING_SANDBOXES = 10;
const CREATE_CONCURRENCY = 4;
/** The load test's generator: 50 lines of 56 bytes, then 0.1 s (~28 KB/s per terminal). */
const LINES_PER_BURST = 50;
const BURST_PAUSE_SECONDS = 0.1;
const STREAM_MS = 10_000;
const SAMPLE_MS = 1_000;
/** A common browser terminal's size: each session's screen mirror (and so its memory) scales with it. */
const TERMINAL_SIZE = { cols: 120, rows: 40 };
const END_MARKER_TIMEOUT_MS = 30_000;

function children() {
  const byParent = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))[1]);
      if (!byParent.has(ppid)) byParent.set(ppid, []);
      byParent.get(ppid).push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return byParent;
}

function tree(root) {
  const byParent = children();
  const pids = [root];
  for (let i = 0; i < pids.length; i++) pids.push(...(byParent.get(pids[i]) ?? []));
  return pids;
}

function kib(file, field) {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(file, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function measure(relayPid) {
  const pids = tree(relayPid);
  return {
    relayRss: kib(`/proc/${relayPid}/status`, 'VmRSS') * 1024,
    totalPss: pids.reduce((sum, pid) => sum + kib(`/proc/${pid}/smaps_rollup`, 'Pss'), 0) * 1024,
    processes: pids.length,
  };
}

/** Runs `create` for every item, `CREATE_CONCURRENCY` at a time. */
async function inParallel(items, create) {
  const queue = [...items];
  const results = [];
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) results.push(await create(item));
  }));
  return results;
}

/** Starts `count` sandboxes (one bwrap and init each), so that what follows is sessions only. */
async function startSandboxes(relay, prefix, count) {
  const sandboxes = Array.from({ length: count }, (_, i) => getSandbox(relay.url, `${prefix}-${i}`));
  for (const sandbox of sandboxes) await sandbox.exec('true');
  await relay.gc();
  return sandboxes;
}

async function idleSessions() {
  const perSandbox = IDLE_SESSIONS / IDLE_SANDBOXES;
  const relay = await startRelay({ options: { limits: { sessionsPerSandbox: perSandbox } } });
  try {
    const sandboxes = await startSandboxes(relay, 'bench-idle', IDLE_SANDBOXES);
    const before = measure(relay.pid);
    const started = performance.now();
    await inParallel(Array.from({ length: IDLE_SESSIONS }, (_, i) => sandboxes[i % IDLE_SANDBOXES]), (sandbox) => sandbox.createSession(TERMINAL_SIZE));
    const createSeconds = (performance.now() - started) / 1000;
    // just created: every shell at its prompt, nothing pending in the relay
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await relay.gc();
    const justCreated = measure(relay.pid);
    // idle: quiet for longer than MIRROR_REST_AFTER_MS, so every screen mirror rests (as an idle session's does)
    await new Promise((resolve) => setTimeout(resolve, MIRROR_REST_AFTER_MS));
    await relay.gc();
    const after = measure(relay.pid);
    return {
      justCreated,
      sessions: IDLE_SESSIONS,
      sandboxes: IDLE_SANDBOXES,
      createSeconds,
      before,
      after,
      relayPerSession: (after.relayRss - before.relayRss) / IDLE_SESSIONS,
      totalPerSession: (after.totalPss - before.totalPss) / IDLE_SESSIONS,
      processesPerSession: (after.processes - before.processes) / IDLE_SESSIONS,
    };
  } finally {
    await relay.close();
  }
}

async function streamingSessions() {
  const relay = await startRelay();
  const terminals = [];
  try {
    const sandboxes = await startSandboxes(relay, 'bench-stream', STREAMING_SANDBOXES);
    const before = measure(relay.pid);
    const sessions = await inParallel(Array.from({ length: STREAMING_SESSIONS }, (_, i) => i), async (i) => {
      const sandbox = sandboxes[i % STREAMING_SANDBOXES];
      return { sandbox, index: i, id: await sandbox.createSession(TERMINAL_SIZE) };
    });
    const wsBase = relay.url.replace(/^http/, 'ws');
    for (const { sandbox, id } of sessions) {
      const terminal = new StreamingTerminal(`${wsBase}${apiPaths.terminal(sandbox.id, id)}?cols=${TERMINAL_SIZE.cols}&rows=${TERMINAL_SIZE.rows}`);
      terminals.push(terminal);
      await terminal.opened;
    }
    for (const [i, terminal] of terminals.entries()) terminal.type(generatorCommand(sessions[i].index, LINES_PER_BURST, BURST_PAUSE_SECONDS));
    const samples = [];
    const bytesAtStart = terminals.reduce((sum, t) => sum + t.bytes, 0);
    const started = performance.now();
    while (performance.now() - started < STREAM_MS) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      samples.push(measure(relay.pid).relayRss);
    }
    const streamedBytes = terminals.reduce((sum, t) => sum + t.bytes, 0) - bytesAtStart;
    const seconds = (performance.now() - started) / 1000;
    for (const sandbox of sandboxes) await sandbox.exec(`touch ${STOP_FILE}`);
    await Promise.all(terminals.map((terminal, i) => terminal.waitFor(endMarker(sessions[i].index), END_MARKER_TIMEOUT_MS)));
    const problems = terminals.flatMap((terminal) => terminal.problems());
    const peak = Math.max(...samples);
    return {
      sessions: STREAMING_SESSIONS,
      sandboxes: STREAMING_SANDBOXES,
      before,
      peakRss: peak,
      relayPerTerminal: (peak - before.relayRss) / STREAMING_SESSIONS,
      mbPerSecond: streamedBytes / 1e6 / seconds,
      problems,
    };
  } finally {
    for (const terminal of terminals) terminal.close();
    await relay.close();
  }
}

export async function memory() {
  return { idle: await idleSessions(), streaming: await streamingSessions() };
}
