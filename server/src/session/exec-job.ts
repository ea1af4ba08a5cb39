import { randomBytes } from 'node:crypto';
import type { ExecResult, ExecStreamEvent } from '@sandbox-terminal/protocol';
import { OutputCollector } from '../exec/output-collector.ts';

export interface ExecJobRequest {
  command: string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  stdin?: string;
  /** Receives stream events as they happen (execStream). */
  onEvent?: (event: ExecStreamEvent) => void;
  /** Aborting stops the command as a timeout would (exit code 124, `timedOut`). */
  signal?: AbortSignal;
}

const JOB_ID_PREFIX = randomBytes(4).toString('hex');
let jobCounter = 0;

/**
 * One command sent to a session's shell: its collected output, its end markers, and the promise its caller waits
 * on. The session drives it; this class only keeps the bookkeeping straight.
 */
export class ExecJob {
  /**
   * Shell-safe id (hex) written into the job file and the markers: unique per relay process, and across processes
   * through a random prefix (a marker left in a FIFO by an older relay never matches). Not a secret: the shell can
   * read its job file anyway. A counter, because a getrandom() per exec showed in the exec profile.
   */
  readonly id = `${JOB_ID_PREFIX}${(++jobCounter).toString(16)}`;
  readonly stdout: OutputCollector;
  readonly stderr: OutputCollector;
  readonly result: Promise<ExecResult>;
  /** The `B` marker reached the terminal: exec output may now be shown to viewers. */
  begun = false;
  /** The `E` marker reached the terminal: terminal output after it waits until the job is complete. */
  endedOnTerminal = false;
  timedOut = false;
  sessionRecreated = false;
  #startedAt = 0;
  #exitCode: number | undefined;
  #stderrDone = false;
  #settled = false;
  #resolve!: (result: ExecResult) => void;

  constructor(
    readonly request: ExecJobRequest,
    readonly sessionId: string,
    outputLimitBytes: number,
  ) {
    this.stdout = new OutputCollector(outputLimitBytes);
    this.stderr = new OutputCollector(outputLimitBytes);
    this.result = new Promise((resolve) => (this.#resolve = resolve));
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Called when the job is handed to the shell. */
  dispatched(): void {
    this.#startedAt = performance.now();
    this.request.onEvent?.({
      type: 'start',
      command: this.request.command,
      session: this.sessionId,
      sessionRecreated: this.sessionRecreated,
      timestamp: new Date().toISOString(),
    });
  }

  addStdout(chunk: Buffer): void {
    const text = this.stdout.add(chunk);
    if (text) this.request.onEvent?.({ type: 'stdout', data: text });
  }

  addStderr(chunk: Buffer): void {
    const text = this.stderr.add(chunk);
    if (text) this.request.onEvent?.({ type: 'stderr', data: text });
  }

  stdoutEnded(exitCode: number): void {
    this.#exitCode = exitCode;
  }

  stderrEnded(): void {
    this.#stderrDone = true;
  }

  /** Both FIFOs delivered their end markers. */
  get outputComplete(): boolean {
    return this.#exitCode !== undefined && this.#stderrDone;
  }

  /** Resolves the caller's promise once; later calls are ignored. */
  finish(exitCode = this.#exitCode ?? -1): void {
    if (this.#settled) return;
    this.#settled = true;
    const tailOut = this.stdout.flushText();
    if (tailOut) this.request.onEvent?.({ type: 'stdout', data: tailOut });
    const tailErr = this.stderr.flushText();
    if (tailErr) this.request.onEvent?.({ type: 'stderr', data: tailErr });
    const durationMs = this.#startedAt ? Math.round((performance.now() - this.#startedAt) * 1000) / 1000 : 0;
    const truncated = this.stdout.truncated || this.stderr.truncated;
    const success = exitCode === 0 && !this.timedOut;
    this.request.onEvent?.({ type: 'exit', exitCode, success, timedOut: this.timedOut, truncated, durationMs });
    this.#resolve({
      success,
      exitCode,
      stdout: this.stdout.text(),
      stderr: this.stderr.text(),
      durationMs,
      timedOut: this.timedOut,
      truncated,
      sessionRecreated: this.sessionRecreated,
      command: this.request.command,
      session: this.sessionId,
    });
  }
}
