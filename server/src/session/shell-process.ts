import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IPty } from 'node-pty';
import { RelayError } from '../errors.ts';
import type { SandboxInstance, SandboxPaths } from '../sandbox/backend.ts';
import { killProcessTree } from '../sandbox/kill-tree.ts';
import { signalQuietly } from '../sandbox/process-tree.ts';
import { JobFile } from './job-file.ts';
import { PtyInput } from './pty-input.ts';
import { PtyOutput } from './pty-output.ts';
import { MarkerScanner } from './marker-scanner.ts';
import { ShellPipes } from './shell-pipes.ts';
import { CONTROL_FILES, EXEC_KEY, OSC_MARKER_PREFIX, OSC_MARKER_TERMINATOR, jobScript, type JobSpec } from './bash-contract.ts';

/**
 * Where one shell is in its life. It only moves forward (`#moveTo` refuses anything else), so "ready after ended"
 * cannot happen; a session that needs a shell again starts a new `ShellProcess`.
 */
export type ShellState = 'starting' | 'ready' | 'ending' | 'ended';
const STATE_ORDER: Record<ShellState, number> = { starting: 0, ready: 1, ending: 2, ended: 3 };

/** Held bytes of a possibly split marker are released after this long (a real marker arrives in one write). */
const MARKER_HOLD_MS = 15;
/** Longest wait for the fresh prompt after a stale one was refreshed. */
const FRESH_PROMPT_WAIT_MS = 2_000;

/** How the shell ended; `expected` when the relay ended it (`end()`), not the user or a kill from elsewhere. */
export interface ShellExit {
  exitCode: number;
  signal: number | null;
  expected: boolean;
}

/** What a shell reports to its session. Nothing is reported after `exit`. */
export interface ShellEvents {
  /** Terminal output in PTY order, the relay's markers taken out; valid during the call only (a shared read buffer). */
  terminal(data: Buffer): void;
  /** A job's `B` marker: its command line is on the terminal. */
  jobBegun(jobId: string): void;
  /** A job's `E` marker: what the terminal shows next is the prompt after it. */
  jobEndedOnTerminal(jobId: string): void;
  /** The shell is at a fresh prompt and accepts a job (its first prompt included). */
  prompt(): void;
  execOutput(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  execEnd(stream: 'stdout' | 'stderr', jobId: string, exitCode: number | undefined): void;
  /** A state record (cwd, NUL, `export -p`), written at every prompt and after every job. */
  state(record: Buffer): void;
  exit(exit: ShellExit): void;
}

export interface ShellLaunch {
  instance: SandboxInstance;
  /** Host directory for this shell's control files; emptied and made anew. */
  controlDir: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  /** Start with the PTY and the FIFOs paused (the session's viewers are behind). */
  paused: boolean;
  /** How long the shell may take to show its first prompt. */
  startTimeoutMs: number;
  /** Most input from viewers held for the shell while it does not read (`terminalInputPendingBytes`). */
  inputPendingBytes: number;
}

/**
 * One bash on a PTY inside a sandbox, with the shell integration's control files: the job file, the exec output and
 * state FIFOs. It reads the PTY for the relay's markers, knows whether bash sits at a fresh prompt, sends jobs, and
 * ends itself (with everything it started) when asked.
 */
export class ShellProcess {
  readonly #pty: IPty;
  readonly #input: PtyInput;
  readonly #output: PtyOutput;
  readonly #instance: SandboxInstance;
  readonly #controlDir: string;
  readonly #events: ShellEvents;
  readonly #pipes: ShellPipes;
  readonly #jobFile: JobFile;
  readonly #scanner = new MarkerScanner(OSC_MARKER_PREFIX, OSC_MARKER_TERMINATOR);
  #state: ShellState = 'starting';
  #markerHoldTimer: NodeJS.Timeout | undefined;
  /** At a prompt readline has drawn, with no line submitted since. */
  #atPrompt = false;
  /** An empty line was submitted to refresh a stale prompt: P markers until the next prompt cycle are redraws. */
  #awaitingFreshPrompt = false;
  #freshPromptTimer: NodeJS.Timeout | undefined;
  /** A viewer typed since the last job was sent: its keystrokes may be on readline's line. */
  #typedSinceJob = false;
  /** Control files of the running job (its stdin, the tty-restore flag), removed once it settles. */
  readonly #jobFiles = new Set<string>();
  /** Resolves at the first prompt; rejects if the shell ends or times out before it. */
  readonly ready: Promise<void>;
  readonly exited: Promise<ShellExit>;
  #readyOutcome!: { resolve: () => void; reject: (error: Error) => void };
  readonly #startTimer: NodeJS.Timeout;

  constructor(launch: ShellLaunch, events: ShellEvents) {
    this.#instance = launch.instance;
    this.#controlDir = launch.controlDir;
    this.#events = events;
    rmSync(launch.controlDir, { recursive: true, force: true });
    mkdirSync(launch.controlDir, { recursive: true });
    this.#jobFile = new JobFile(join(launch.controlDir, CONTROL_FILES.job));
    this.#pipes = new ShellPipes(join(launch.controlDir, CONTROL_FILES.stdout), join(launch.controlDir, CONTROL_FILES.stderr), join(launch.controlDir, CONTROL_FILES.state), {
      data: (stream, chunk) => this.#live() && events.execOutput(stream, chunk),
      end: (stream, jobId, exitCode) => this.#live() && events.execEnd(stream, jobId, exitCode),
      state: (record) => this.#live() && events.state(record),
    });
    this.ready = new Promise((resolve, reject) => (this.#readyOutcome = { resolve, reject }));
    // A start that fails is reported through `ready`; nobody else needs to hear of it.
    this.ready.catch(() => undefined);
    let pty: IPty | undefined;
    let input: PtyInput | undefined;
    try {
      pty = launch.instance.spawnShell({
        env: launch.env,
        cols: launch.cols,
        rows: launch.rows,
        args: ['--rcfile', `${launch.instance.paths.control}/${CONTROL_FILES.bashrc}`, '-i'],
      });
      // The input's copy of node-pty's descriptor first: PtyOutput closes node-pty's.
      input = PtyInput.forPty(pty, launch.inputPendingBytes);
      this.#output = PtyOutput.forPty(pty, (view) => this.#onTerminalData(view));
    } catch (error) {
      // Out of descriptors for the relay's own copies, say: the shell that did start must not outlive the failure.
      if (pty) signalQuietly(pty.pid, 'SIGKILL');
      input?.close();
      this.#pipes.close();
      this.#jobFile.close();
      throw new RelayError('SANDBOX_START_FAILED', `the shell could not be started: ${(error as Error).message}`);
    }
    this.#pty = pty;
    this.#input = input;
    if (launch.paused) this.pause();
    this.exited = new Promise((resolve) => {
      // What the shell printed last may still be in the PTY when it is reaped: read it before the exit is reported.
      this.#pty.onExit(({ exitCode, signal }) => void this.#output.drainAfterExit().then(() => resolve(this.#onExit(exitCode, signal ?? null))));
    });
    this.#startTimer = setTimeout(() => {
      this.#readyOutcome.reject(new RelayError('SANDBOX_START_FAILED', `shell did not show a prompt within ${launch.startTimeoutMs} ms`));
    }, launch.startTimeoutMs);
  }

  /** Where the sandbox's shells see the workspace and the control directory. */
  get paths(): SandboxPaths {
    return this.#instance.paths;
  }

  get state(): ShellState {
    return this.#state;
  }

  /** Ready, at a fresh prompt: a job sent now runs at once. */
  get acceptsJob(): boolean {
    return this.#state === 'ready' && this.#atPrompt;
  }

  /** The host pid of bash itself (below any wrapper the backend starts it with), while it runs. */
  get hostPid(): number | undefined {
    return this.#state === 'ended' ? undefined : this.#instance.shellHostPid(this.#pty);
  }

  /**
   * Keystrokes from a viewer, as they came: no decoding on the keystroke path. Throws LIMIT_EXCEEDED (nothing of
   * `data` written) when the program in the terminal has left `terminalInputPendingBytes` of earlier input unread.
   */
  typed(data: Buffer): void {
    if (this.#state === 'ended') return;
    this.#input.typed(data);
    // Once a line is submitted the shell is no longer at its prompt until it draws the next one.
    if (data.includes(0x0d) || data.includes(0x0a)) this.#atPrompt = false;
    this.#typedSinceJob = true;
  }

  /** Input from viewers the program in the terminal has not read yet. */
  get inputPendingBytes(): number {
    return this.#input.pendingBytes;
  }

  resize(cols: number, rows: number): void {
    if (this.#state !== 'ended') this.#output.resize(cols, rows);
  }

  /** Stops reading the PTY and the exec output FIFOs (flow control, pacing). */
  pause(): void {
    this.#output.pause();
    this.#pipes.pause();
  }

  resume(): void {
    this.#output.resume();
    this.#pipes.resume();
  }

  /** Sends a job: its file, then the exec key (the shell reads the file only after the key). */
  run(job: Omit<JobSpec, 'hasStdin'>, stdin: string | undefined): void {
    if (stdin !== undefined) this.writeJobFile(CONTROL_FILES.stdin, stdin);
    this.#jobFile.write(jobScript({ ...job, hasStdin: stdin !== undefined }));
    this.#atPrompt = false;
    this.#typedSinceJob = false;
    this.#input.write(EXEC_KEY);
  }

  /** A control file for the running job only, removed by `jobSettled`. */
  writeJobFile(name: string, content: string | Uint8Array): void {
    const path = join(this.#controlDir, name);
    writeFileSync(path, content);
    this.#jobFiles.add(path);
  }

  jobSettled(): void {
    for (const path of this.#jobFiles) rmSync(path, { force: true });
    this.#jobFiles.clear();
  }

  /** Ends the shell and everything it started; resolves once it has exited. Reported as `expected`. */
  async end(): Promise<ShellExit> {
    if (this.#state === 'ended') return this.exited;
    this.#moveTo('ending');
    // The sandbox may remove the control directory once the shell is gone; the next shell opens a new job file.
    this.#jobFile.close();
    const bashPid = this.#instance.shellHostPid(this.#pty);
    if (bashPid) killProcessTree(bashPid, 'process');
    signalQuietly(this.#pty.pid, 'SIGKILL');
    return this.exited;
  }

  /** Whether the shell's FIFO events still belong to a live shell (not one being ended). */
  #live(): boolean {
    return this.#state === 'starting' || this.#state === 'ready';
  }

  #moveTo(next: ShellState): boolean {
    if (STATE_ORDER[next] <= STATE_ORDER[this.#state]) return false;
    this.#state = next;
    return true;
  }

  /** `data` is valid during the call only (PTY reads share one buffer): whatever keeps bytes keeps a copy. */
  #onTerminalData(data: Buffer): void {
    if (this.#state === 'ended') return;
    clearTimeout(this.#markerHoldTimer);
    for (const segment of this.#scanner.push(data)) {
      if (segment.kind === 'data') this.#events.terminal(segment.data);
      else this.#onMarker(segment.payload);
    }
    // A lone ESC at the end of a read may be the start of a marker, or just an escape sequence cut by the read.
    if (!this.#scanner.holding) return;
    this.#markerHoldTimer = setTimeout(() => {
      const held = this.#scanner.flush();
      if (held.length && this.#state !== 'ended') this.#events.terminal(held);
    }, MARKER_HOLD_MS);
  }

  #onMarker(payload: string): void {
    if (!this.#live()) return;
    const [kind, jobId = ''] = payload.split(';');
    if (kind === 'C') {
      this.#awaitingFreshPrompt = false;
      clearTimeout(this.#freshPromptTimer);
    } else if (kind === 'P') {
      // A redraw of the stale prompt is not the fresh one that the submitted empty line will bring.
      if (this.#awaitingFreshPrompt) return;
      this.#atPrompt = true;
      if (this.#moveTo('ready')) {
        clearTimeout(this.#startTimer);
        this.#readyOutcome.resolve();
      }
      this.#events.prompt();
    } else if (kind === 'B') {
      this.#events.jobBegun(jobId);
    } else if (kind === 'E') {
      this.#events.jobEndedOnTerminal(jobId);
      // The prompt readline is about to redraw is out of date (the job changed directory): if nobody typed since
      // the job started, submit the empty line so bash draws a fresh prompt. (The job may already be settled: its
      // FIFO end markers can be read before this marker.)
      if (payload.endsWith(';stale') && !this.#typedSinceJob) this.#refreshStalePrompt();
    }
  }

  #refreshStalePrompt(): void {
    this.#awaitingFreshPrompt = true;
    // Should the shell not start a new prompt cycle (it always does), do not wait for one forever.
    clearTimeout(this.#freshPromptTimer);
    this.#freshPromptTimer = setTimeout(() => {
      if (!this.#awaitingFreshPrompt || !this.#live()) return;
      this.#awaitingFreshPrompt = false;
      this.#atPrompt = true;
      this.#events.prompt();
    }, FRESH_PROMPT_WAIT_MS);
    this.#input.write('\r');
  }

  #onExit(exitCode: number, signal: number | null): ShellExit {
    const expected = this.#state === 'ending';
    const held = this.#scanner.flush();
    if (held.length) this.#events.terminal(held);
    this.#moveTo('ended');
    clearTimeout(this.#markerHoldTimer);
    clearTimeout(this.#freshPromptTimer);
    clearTimeout(this.#startTimer);
    this.#pipes.close();
    this.#jobFile.close();
    this.#input.close();
    this.#readyOutcome.reject(new RelayError('SANDBOX_START_FAILED', `shell exited with code ${exitCode} before its first prompt`));
    const exit = { exitCode, signal: signal || null, expected };
    this.#events.exit(exit);
    return exit;
  }
}
