// Workload 5: memory per idle session at 200 sessions, in a relay of its own. The relay's RSS, and the proportional
// set size (PSS, from /proc/<pid>/smaps_rollup) of the relay and every process below it: shared pages (bash's code,
// libc) are split between the processes sharing them instead of counted once per shell.
import { readdirSync, readFileSync } from 'node:fs';
import { getSandbox } from '@sandbox-terminal/client';
import { startRelay } from '../lib/relay-process.mjs';

export const SESSIONS = 200;
/** 4 sandboxes of 50 sessions: under the default sessionsPerSandbox (64). */
const SANDBOXES = 4;
const CREATE_CONCURRENCY = 4;

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

export async function memory() {
  const relay = await startRelay();
  try {
    // The sandboxes are started first, so the per-session figure is sessions only (a sandbox is one bwrap + init).
    const sandboxes = Array.from({ length: SANDBOXES }, (_, i) => getSandbox(relay.url, `bench-memory-${i}`));
    for (const sandbox of sandboxes) await sandbox.exec('true');
    await relay.gc();
    const before = measure(relay.pid);
    const queue = Array.from({ length: SESSIONS }, (_, i) => sandboxes[i % SANDBOXES]);
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, async () => {
      for (let sandbox = queue.shift(); sandbox; sandbox = queue.shift()) await sandbox.createSession();
    }));
    // idle: every shell at its prompt, nothing pending in the relay
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await relay.gc();
    const after = measure(relay.pid);
    return {
      sessions: SESSIONS,
      sandboxes: SANDBOXES,
      before,
      after,
      relayPerSession: (after.relayRss - before.relayRss) / SESSIONS,
      totalPerSession: (after.totalPss - before.totalPss) / SESSIONS,
      processesPerSession: (after.processes - before.processes) / SESSIONS,
    };
  } finally {
    await relay.close();
  }
}
