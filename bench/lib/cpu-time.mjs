// Where the CPU went during a measurement: the machine's busy and idle time (/proc/stat) and the CPU time of
// processes. A process alone is read from its threads' /proc/<pid>/task/<tid>/schedstat (nanoseconds: the relay's
// CPU for one run is a few hundred ms, and /proc/<pid>/stat counts in 10 ms ticks); a group of processes adds the
// CPU of children that exited and were waited for (cutime + cstime: `yes` and `head` below bash).
import { readdirSync, readFileSync } from 'node:fs';

const TICK_NS = 10_000_000; // USER_HZ is 100 on Linux

function machineTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4];
  return { busy: fields.reduce((a, b) => a + b, 0) - idle, idle };
}

/** CPU nanoseconds of one process's live threads. */
export function threadsNs(pid) {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended
      }
    }
  } catch {
    // the process ended
  }
  return ns;
}

function processes() {
  const result = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      result.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(fields[1]), reapedNs: (Number(fields[13]) + Number(fields[14])) * TICK_NS });
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
 * Snapshot of the machine and of named groups: `{ relay: { pid } }` is that process alone (no children);
 * `{ tree: { root } }` is the root and everything below it; `comm` keeps only processes whose name starts with it.
 */
export function cpuSnapshot(groupsSpec) {
  const all = Object.values(groupsSpec).some((spec) => spec.root !== undefined) ? processes() : [];
  const groups = {};
  for (const [name, spec] of Object.entries(groupsSpec)) {
    if (spec.pid !== undefined) {
      groups[name] = threadsNs(spec.pid);
      continue;
    }
    const pids = descendants(all, spec.root);
    groups[name] = all.filter((p) => pids.has(p.pid) && (!spec.comm || p.comm.startsWith(spec.comm))).reduce((sum, p) => sum + threadsNs(p.pid) + p.reapedNs, 0);
  }
  return { machine: machineTicks(), groups };
}

/** CPU milliseconds per group and the machine's busy share between two snapshots. */
export function cpuDelta(before, after) {
  const busy = after.machine.busy - before.machine.busy;
  const idle = after.machine.idle - before.machine.idle;
  const groups = Object.fromEntries(Object.keys(after.groups).map((name) => [name, (after.groups[name] - before.groups[name]) / 1e6]));
  return { groups, machineBusyShare: busy / (busy + idle), machineBusyMs: (busy * TICK_NS) / 1e6 };
}
