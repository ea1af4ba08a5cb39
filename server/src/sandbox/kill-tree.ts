import { descendantPids, signalQuietly } from './process-tree.ts';

/**
 * What `killProcessTree` kills besides the descendants: nothing (`keep`: the process itself stays, e.g. a shell
 * whose command timed out), the process itself, or its whole process group (`-pid`, a one-off command).
 */
export type TreeRoot = 'keep' | 'process' | 'group';

/**
 * SIGKILLs every process below `pid` (all found first, then killed, so a parent cannot replace a killed child
 * before its siblings are found), then the root as asked. Processes that already went are skipped quietly.
 */
export function killProcessTree(pid: number, root: TreeRoot): void {
  for (const descendant of descendantPids(pid)) signalQuietly(descendant, 'SIGKILL');
  if (root === 'process') signalQuietly(pid, 'SIGKILL');
  else if (root === 'group') signalQuietly(-pid, 'SIGKILL');
}
