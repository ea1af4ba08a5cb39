import { TIMED_OUT_EXIT_CODE, type ExecEnd, type ExecJob } from './exec-job.ts';

/** The shell of the moment, as the queue sees it. */
export interface JobRunner {
  /** A job may be sent now: the shell is ready and at a fresh prompt. */
  readonly acceptsJob: boolean;
  run(job: ExecJob): void;
}

/**
 * A session's exec calls, run one at a time in the order they came. The queue outlives shells: a job queued while
 * the shell is being started, woken or replaced waits for the next shell's prompt, because whoever owns the shell
 * calls `pump` whenever a shell may have become free (its prompt, a new job, a settled job) and `pump` alone decides.
 */
export class ExecQueue {
  readonly #waiting: ExecJob[] = [];
  #current: ExecJob | undefined;
  /** The running job's timeout fired: the owner stops it (see timeout-escalation.ts) and settles it. */
  readonly #onRunningTimeout: (job: ExecJob) => void;

  constructor(onRunningTimeout: (job: ExecJob) => void) {
    this.#onRunningTimeout = onRunningTimeout;
  }

  /** The job the shell is running now. */
  get current(): ExecJob | undefined {
    return this.#current;
  }

  /** A job runs or waits. */
  get busy(): boolean {
    return this.#current !== undefined || this.#waiting.length > 0;
  }

  /**
   * Queues a job. Its timeout (and its caller going away) counts from now: a job still waiting then is dropped with
   * exit code 124; a running one is handed to the owner to stop.
   */
  add(job: ExecJob): void {
    const { timeoutMs, signal } = job.request;
    if (signal?.aborted) {
      job.timedOut = true;
      job.finish({ exitCode: TIMED_OUT_EXIT_CODE });
      return;
    }
    this.#waiting.push(job);
    if (timeoutMs) {
      const timer = setTimeout(() => this.#timeOut(job), timeoutMs);
      void job.result.finally(() => clearTimeout(timer));
    }
    if (signal) {
      const onAbort = () => this.#timeOut(job);
      signal.addEventListener('abort', onAbort, { once: true });
      void job.result.finally(() => signal.removeEventListener('abort', onAbort));
    }
  }

  /** Sends the next job to `runner` if nothing runs and the runner accepts one. */
  pump(runner: JobRunner | undefined): void {
    if (this.#current || !runner?.acceptsJob) return;
    const job = this.#waiting.shift();
    if (!job) return;
    this.#current = job;
    runner.run(job);
  }

  /** The running job is over (`end` undefined: with the exit code its shell reported). Returns it, or undefined. */
  settleCurrent(end?: ExecEnd): ExecJob | undefined {
    const job = this.#current;
    if (!job) return undefined;
    this.#current = undefined;
    job.finish(end);
    return job;
  }

  /** Ends every waiting job (the shell is gone for good) with `end`. */
  failWaiting(end: ExecEnd): void {
    for (const job of this.#waiting.splice(0)) job.finish(end);
  }

  #timeOut(job: ExecJob): void {
    if (job.settled) return;
    job.timedOut = true;
    const index = this.#waiting.indexOf(job);
    if (index >= 0) {
      this.#waiting.splice(index, 1);
      job.finish({ exitCode: TIMED_OUT_EXIT_CODE });
    } else if (job === this.#current) {
      this.#onRunningTimeout(job);
    }
  }
}
