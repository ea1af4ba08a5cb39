import { readFileSync, readdirSync } from 'node:fs';

/**
 * Reading processes from the host's /proc. Pids here are host pids even for processes inside a sandbox's pid
 * namespace, because the relay's /proc belongs to the host namespace.
 */

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  pgid: number;
  /** Foreground process group of the process's controlling terminal. */
  tpgid: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may itself contain spaces or parentheses: split after the last ')'.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    return { pid, comm, ppid: Number(fields[1]), pgid: Number(fields[2]), tpgid: Number(fields[5]) };
  } catch {
    return undefined;
  }
}

export function childPids(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) children.push(...text.split(' ').map(Number));
    }
  } catch {
    // the process is gone
  }
  return children;
}

export function descendantPids(pid: number): number[] {
  const found: number[] = [];
  const queue = childPids(pid);
  while (queue.length) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...childPids(next));
  }
  return found;
}

/** The first process named `comm` at or below `pid`, breadth first. */
export function findDescendantByName(pid: number, comm: string): number | undefined {
  const queue = [pid];
  while (queue.length) {
    const next = queue.shift()!;
    if (readProcStat(next)?.comm === comm) return next;
    queue.push(...childPids(next));
  }
  return undefined;
}

export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Whether a process with this pid exists (one of another user's counts: EPERM). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
