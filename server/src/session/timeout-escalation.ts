import { killProcessTree } from '../sandbox/kill-tree.ts';
import { readProcStat, signalQuietly } from '../sandbox/process-tree.ts';

/** Rounds of kill-and-interrupt before a timed-out command's shell is replaced outright. */
export const TIMEOUT_KILL_ATTEMPTS = 3;

export interface EscalationSteps {
  /** Host pid of the shell running the command. */
  bashPid: number;
  /** Pause between rounds (`killEscalationMs`). */
  intervalMs: number;
  /** Asks the shell to put its terminal mode back after the kill (a killed program may leave it raw). */
  restoreTty(): void;
  /** Nothing brought the prompt back: the shell itself must be replaced. */
  giveUp(): void;
}

/**
 * Stops a timed-out command in a session's shell: first an interrupt to the terminal's foreground process group, as
 * Ctrl-C would (which also aborts the rest of a command list); then, every `intervalMs`, every process below the
 * shell is killed and the shell interrupted, until the job settles; after `TIMEOUT_KILL_ATTEMPTS` rounds the shell
 * ignores SIGINT itself (a `trap '' INT` in the session, a loop in the shell) and `giveUp` replaces it. The owner
 * calls `cancel` once the job has settled.
 */
export function escalateTimeout(steps: EscalationSteps): { cancel(): void } {
  const { bashPid } = steps;
  const stat = readProcStat(bashPid);
  if (stat && stat.tpgid > 0 && stat.tpgid !== stat.pgid) signalQuietly(-stat.tpgid, 'SIGINT');
  else signalQuietly(bashPid, 'SIGINT');
  let attempts = 0;
  let timer: NodeJS.Timeout | undefined;
  const escalate = () => {
    if (++attempts > TIMEOUT_KILL_ATTEMPTS) {
      timer = undefined;
      steps.giveUp();
      return;
    }
    steps.restoreTty();
    killProcessTree(bashPid, 'keep');
    signalQuietly(bashPid, 'SIGINT');
    timer = setTimeout(escalate, steps.intervalMs);
  };
  timer = setTimeout(escalate, steps.intervalMs);
  return { cancel: () => clearTimeout(timer) };
}
