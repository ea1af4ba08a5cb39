// Where the CPU went during a measurement: the machine's busy and idle time (/proc/stat) and the CPU time of
// process groups (utime + stime from /proc/<pid>/stat, live processes only).
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function machineTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4];
  return { busy: fields.reduce((a, b) => a + b, 0) - idle, idle };
}

function processes() {
  const result = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      result.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(fields[1]), // children that exited and were waited for count in their parent (cutime, cstime): yes and head below bash
      ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) });
    } catch {
      // gone
    }
  }
  return result;
}

function descendants(all, root) {
  const pids = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) if (!pids.has(p.pid) && pids.has(p.ppid)) grew = pids.add(p.pid);
  }
  return pids;
}

/**
 * Snapshot of the machine and of named groups: `{ relay: { root: pid } }` is the relay and everything below it;
 * `comm` keeps only processes whose name starts with it.
 */
export function cpuSnapshot(groupsSpec) {
  const all = processes();
  const groups = {};
  for (const [name, { root, comm }] of Object.entries(groupsSpec)) {
    const pids = descendants(all, root);
    groups[name] = all.filter((p) => pids.has(p.pid) && (!comm || p.comm.startsWith(comm))).reduce((sum, p) => sum + p.ticks, 0);
  }
  return { machine: machineTicks(), groups };
}

/** CPU milliseconds per group and the machine's busy share between two snapshots. */
export function cpuDelta(before, after) {
  const busy = after.machine.busy - before.machine.busy;
  const idle = after.machine.idle - before.machine.idle;
  const groups = Object.fromEntries(Object.keys(after.groups).map((name) => [name, (after.groups[name] - before.groups[name]) * TICK_MS]));
  return { groups, machineBusyShare: busy / (busy + idle), machineBusyMs: busy * TICK_MS };
}
