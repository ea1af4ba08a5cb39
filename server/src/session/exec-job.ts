import { randomBytes } from 'node:crypto';
import type { ExecResult, ExecStreamEvent, RecreationReason } from '@sandbox-terminal/protocol';
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

/** How a command ended: its exit code, or the signal that killed it (the code is then 128 + the signal's number). */
export interface ExecEnd {
  exitCode: number;
  signal?: number;
}

/** Exit code of a command stopped by its timeout (as coreutils' `timeout` reports it). */
export const TIMED_OUT_EXIT_CODE = 124;

const JOB_ID_PREFIX = randomBytes(4).toString('hex');
let jobCounter = 0;

/**
 * One exec call, in a session's shell or a one-off `bash -c`: its collected output, its stream events, and the
 * result its caller waits on. Whoever runs the command drives it; this class keeps the bookkeeping straight.
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
  timedOut = false;
  /** Set when the session had to be recreated to run this call (said in the result and the start event). */
  recreation: RecreationReason | undefined;
  #startedAt = 0;
  #exitCode: number | undefined;
  #stderrDone = false;
  #settled = false;
  #resolve!: (result: ExecResult) => void;

  constructor(
    readonly request: ExecJobRequest,
    /** The session it runs in; undefined for a one-off exec. */
    readonly sessionId: string | undefined,
    outputLimitBytes: number,
  ) {
    this.stdout = new OutputCollector(outputLimitBytes);
    this.stderr = new OutputCollector(outputLimitBytes);
    this.result = new Promise((resolve) => (this.#resolve = resolve));
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Called when the command is handed to a shell. */
  dispatched(): void {
    this.#startedAt = performance.now();
    this.request.onEvent?.({
      type: 'start',
      command: this.request.command,
      ...(this.sessionId !== undefined ? { session: this.sessionId } : {}),
      sessionRecreated: this.recreation !== undefined,
      ...(this.recreation ? { recreationReason: this.recreation } : {}),
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

  /** Resolves the caller's promise once; later calls are ignored. Without `end`, the exit code the shell reported. */
  finish(end: ExecEnd = { exitCode: this.#exitCode ?? -1 }): void {
    if (this.#settled) return;
    this.#settled = true;
    const tailOut = this.stdout.flushText();
    if (tailOut) this.request.onEvent?.({ type: 'stdout', data: tailOut });
    const tailErr = this.stderr.flushText();
    if (tailErr) this.request.onEvent?.({ type: 'stderr', data: tailErr });
    const durationMs = this.#startedAt ? Math.round((performance.now() - this.#startedAt) * 1000) / 1000 : 0;
    const truncated = this.stdout.truncated || this.stderr.truncated;
    const { exitCode, signal } = end;
    const success = exitCode === 0 && signal === undefined && !this.timedOut;
    const ended = signal !== undefined ? { signal } : {};
    this.request.onEvent?.({ type: 'exit', exitCode, success, timedOut: this.timedOut, truncated, durationMs, ...ended });
    this.#resolve({
      success,
      exitCode,
      ...ended,
      stdout: this.stdout.text(),
      stderr: this.stderr.text(),
      durationMs,
      timedOut: this.timedOut,
      truncated,
      sessionRecreated: this.recreation !== undefined,
      ...(this.recreation ? { recreationReason: this.recreation } : {}),
      command: this.request.command,
      ...(this.sessionId !== undefined ? { session: this.sessionId } : {}),
    });
  }
}

/** How a process that was waited for ended, as an exec reports it: a signal `n` reads as exit code 128 + n. */
export function execEnd(exitCode: number | null, signal: number | null | undefined): ExecEnd {
  if (signal) return { exitCode: 128 + signal, signal };
  return { exitCode: exitCode ?? -1 };
}
