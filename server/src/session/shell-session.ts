import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IPty } from 'node-pty';
import type { ExecResult, ReadyMessage, SessionInfo, SessionStatus } from '@sandbox-terminal/protocol';
import { RelayError } from '../errors.ts';
import type { RelayLimits } from '../limits.ts';
import type { SandboxInstance } from '../sandbox/backend.ts';
import { descendantPids, readProcStat, signalQuietly } from '../sandbox/process-tree.ts';
import { ExecJob, type ExecJobRequest } from './exec-job.ts';
import { ShellPipes } from './exec-output-pipes.ts';
import { JobFile } from './job-file.ts';
import { MarkerScanner } from './marker-scanner.ts';
import type { ScreenSnapshot } from './screen-mirror.ts';
import { SessionOutput, type SessionViewer } from './session-output.ts';
import {
  CONTROL_FILES,
  EXEC_KEY,
  OSC_MARKER_PREFIX,
  OSC_MARKER_TERMINATOR,
  jobScript,
  parseStateFile,
} from './shell-integration.ts';
import { sessionEnvironment } from './session-environment.ts';
import { OutputPacer, type TypingPriority } from './typing-priority.ts';

export type { SessionViewer } from './session-output.ts';

export interface SessionHost {
  readonly sandboxId: string;
  readonly limits: RelayLimits;
  /** The relay's typing priority: this session's keystrokes pace the others' output, and theirs pace this one's. */
  readonly typingPriority?: TypingPriority;
  /** Host directory for this session's control files. */
  controlDirFor(sessionId: string): string;
  /** Starts the sandbox if needed. */
  ensureRunning(): Promise<SandboxInstance>;
  touch(): void;
  /** The session's record changed (status, cwd, env): persist it. */
  persist(session: ShellSession): void;
  /** True when the sandbox itself has ended (its processes were killed), not just this shell. */
  sandboxEnded(): boolean;
}

/** Why a shell starts: a new session, a wake after sleep, a restart asked for, a stuck shell replaced after a timeout. */
type ShellStartReason = 'create' | 'wake' | 'restart' | 'replace';

/** Held bytes of a possibly split marker are released after this long (a real marker arrives in one write). */
const MARKER_HOLD_MS = 15;
/**
 * A settled job's output that its `B` marker has not yet preceded on the terminal waits this long for it at most. The
 * FIFOs and the PTY are read in whatever order the poll returns them, so the end markers can be read before the
 * command line that the shell printed first.
 */
const UNSHOWN_OUTPUT_WAIT_MS = 1_000;
/** Longest wait for the fresh prompt after a stale one was refreshed. */
const FRESH_PROMPT_WAIT_MS = 2_000;
/** Rounds of kill-and-interrupt before a timed-out command's shell is replaced outright. */
const TIMEOUT_KILL_ATTEMPTS = 3;

/**
 * One session: a long-lived bash on a PTY inside a sandbox, the viewers watching it, and the queue of exec calls
 * it runs one at a time. Survives its shell: asleep (sandbox stopped, state saved) or exited, it keeps its id,
 * cwd, env and scrollback, and `wake`/`restart` start a new shell under the same id.
 */
export class ShellSession {
  readonly id: string;
  readonly createdAt: Date;
  status: SessionStatus | 'starting' = 'starting';
  cwd: string;
  env: Record<string, string>;
  exitCode: number | undefined;
  lastActiveAt = new Date();
  cols = 80;
  rows = 24;

  readonly #host: SessionHost;
  readonly #output: SessionOutput;
  #pty: IPty | undefined;
  #pipes: ShellPipes | undefined;
  #jobFile: JobFile | undefined;
  /** Control files written for the current job only (its stdin, the tty-restore flag): removed when it settles. */
  readonly #jobExtraFiles = new Set<string>();
  #scanner = new MarkerScanner(OSC_MARKER_PREFIX, OSC_MARKER_TERMINATOR);
  #markerHoldTimer: NodeJS.Timeout | undefined;
  #instance: SandboxInstance | undefined;
  #atPrompt = false;
  #firstPrompt: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #queue: ExecJob[] = [];
  #current: ExecJob | undefined;
  /** Terminal output that arrived after the current job's `E` marker, shown once its output is complete. */
  #heldTerminalOutput: Buffer[] = [];
  /** Exec output that arrived before the job's `B` marker reached the terminal. */
  #heldExecOutput: Buffer[] = [];
  /** A settled job's held output, still waiting for its `B` marker, so viewers see the command line before it. */
  #unshownOutput: { jobId: string; chunks: Buffer[]; timer: NodeJS.Timeout } | undefined;
  #escalation: NodeJS.Timeout | undefined;
  /** An empty line was submitted to refresh a stale prompt: P markers until the next prompt cycle are redraws. */
  #awaitingFreshPrompt = false;
  #freshPromptTimer: NodeJS.Timeout | undefined;
  /** A viewer typed after the current job was sent to the shell: its keystrokes may be on readline's line. */
  #typedSinceDispatch = false;
  #starting: Promise<boolean> | undefined;
  /** Set while the relay itself ends the shell (sleep, delete, restart), so the exit is not reported as the user's. */
  #endingOnPurpose = false;

  constructor(
    host: SessionHost,
    init: { id: string; cwd: string; env: Record<string, string>; createdAt?: Date; status?: SessionStatus; exitCode?: number; screen?: ScreenSnapshot; cols?: number; rows?: number },
  ) {
    this.#host = host;
    this.id = init.id;
    this.cwd = init.cwd;
    this.env = init.env;
    this.createdAt = init.createdAt ?? new Date();
    if (init.status) this.status = init.status;
    this.exitCode = init.exitCode;
    if (init.cols && init.rows) [this.cols, this.rows] = [init.cols, init.rows];
    const pacer = host.typingPriority ? new OutputPacer(host.typingPriority, this) : undefined;
    this.#output = new SessionOutput(host.limits, this.cols, this.rows, { pause: () => this.#pty?.pause(), resume: () => this.#pty?.resume() }, init.screen, pacer);
  }

  get viewerCount(): number {
    return this.#output.viewerCount;
  }

  /** The screen as the session's viewers see it, with its output position (saved with the session record). */
  screen(): ScreenSnapshot {
    return this.#output.mirror.snapshot();
  }

  /** Resolves once the screen holds all output so far (the mirror parses lazily): before saving for a restart. */
  async settleScreen(): Promise<void> {
    await this.#output.mirror.settled();
  }

  info(): SessionInfo {
    const info: SessionInfo = {
      id: this.id,
      sandboxId: this.#host.sandboxId,
      status: this.status === 'starting' ? 'active' : this.status,
      cwd: this.cwd,
      createdAt: this.createdAt.toISOString(),
      lastActiveAt: this.lastActiveAt.toISOString(),
      viewers: this.#output.viewerCount,
      cols: this.cols,
      rows: this.rows,
    };
    if (this.exitCode !== undefined) info.exitCode = this.exitCode;
    return info;
  }

  get hasShell(): boolean {
    return this.#pty !== undefined;
  }

  /** Whether the shell is starting or an exec is queued or running (the sandbox is not idle then). */
  get busy(): boolean {
    return this.#starting !== undefined || this.#current !== undefined || this.#queue.length > 0;
  }

  /**
   * Makes sure a shell is running. Resolves true when it had to be recreated after sleep (cwd and env restored).
   * Throws SESSION_EXITED for a shell the user ended.
   */
  async ensureShell(): Promise<boolean> {
    if (this.status === 'exited') throw new RelayError('SESSION_EXITED', `session ${this.id} has exited (code ${this.exitCode}); restart it to continue`);
    if (this.#pty && this.status === 'active') return false;
    return this.#startOnce(this.status === 'sleeping' ? 'wake' : 'create');
  }

  /** Starts a new shell under the same id after an exit (or replaces a running one), in the last cwd with the env. */
  async restart(): Promise<void> {
    await this.#endShell();
    this.exitCode = undefined;
    await this.#startOnce('restart');
  }

  #startOnce(reason: ShellStartReason): Promise<boolean> {
    this.#starting ??= this.#startShell(reason).finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  /** Resolves true when the session was recreated after sleep (the caller says so to its client). */
  async #startShell(reason: ShellStartReason): Promise<boolean> {
    const recreating = reason === 'wake';
    this.status = 'starting';
    const instance = await this.#host.ensureRunning();
    this.#instance = instance;
    const controlDir = this.#host.controlDirFor(this.id);
    this.#jobFile?.close();
    rmSync(controlDir, { recursive: true, force: true });
    mkdirSync(controlDir, { recursive: true });
    this.#jobFile = new JobFile(join(controlDir, CONTROL_FILES.job));
    this.#pipes = new ShellPipes(join(controlDir, CONTROL_FILES.stdout), join(controlDir, CONTROL_FILES.stderr), join(controlDir, CONTROL_FILES.state), {
      data: (stream, chunk) => this.#onExecOutput(stream, chunk),
      end: (stream, jobId, exitCode) => this.#onExecOutputEnd(stream, jobId, exitCode),
      state: (record) => this.#onShellState(record),
    });
    this.#scanner = new MarkerScanner(OSC_MARKER_PREFIX, OSC_MARKER_TERMINATOR);
    this.#atPrompt = false;
    this.#awaitingFreshPrompt = false;
    this.#endingOnPurpose = false;
    if (recreating) this.#emitNotice(`sandbox was asleep: session restored in ${this.cwd}`);
    if (reason === 'restart') this.#emitNotice(`new shell in ${this.cwd}`);
    const shell = instance.spawnShell({
      env: sessionEnvironment(instance.paths, `${instance.paths.control}/${this.id}`, this.#toSandboxPath(this.cwd), this.env),
      cols: this.cols,
      rows: this.rows,
      args: ['--rcfile', `${instance.paths.control}/${CONTROL_FILES.bashrc}`, '-i'],
    });
    this.#pty = shell;
    if (this.#output.paused) shell.pause();
    shell.onData((data) => this.#onTerminalData(shell, data as unknown as Buffer));
    shell.onExit(({ exitCode, signal }) => this.#onShellExit(shell, exitCode, signal ?? null));
    const firstPrompt = new Promise<void>((resolve, reject) => (this.#firstPrompt = { resolve, reject }));
    const timeout = setTimeout(
      () => this.#firstPrompt?.reject(new RelayError('SANDBOX_START_FAILED', `shell did not show a prompt within ${this.#host.limits.shellStartTimeoutMs} ms`)),
      this.#host.limits.shellStartTimeoutMs,
    );
    try {
      await firstPrompt;
    } finally {
      clearTimeout(timeout);
      this.#firstPrompt = undefined;
    }
    this.status = 'active';
    this.#host.persist(this);
    if (recreating) this.announceRecreated(Object.keys(this.env));
    if (reason === 'restart') this.#output.resendScreen((position, resumed) => this.#ready('created', position, resumed));
    return recreating;
  }

  /** A dim line in the terminal, between the old output and the new shell's prompt. */
  #emitNotice(text: string): void {
    this.#emitTerminal(Buffer.from(`\r\n\x1b[2m--- ${text} ---\x1b[0m\r\n`));
  }

  // ------------------------------------------------------------------ terminal side

  /**
   * Attaches a viewer: `ready`, then either exactly the output after `cursor` or the current screen, then live.
   */
  attach(viewer: SessionViewer, mode: 'created' | 'attached' | 'recreated', cursor?: number): void {
    if (this.#output.viewerCount >= this.#host.limits.viewersPerSession) {
      throw new RelayError('LIMIT_EXCEEDED', `session ${this.id} already has ${this.#output.viewerCount} viewers`, { limit: 'viewersPerSession', value: this.#host.limits.viewersPerSession });
    }
    this.#output.attach(viewer, cursor, (position, resumed) => this.#ready(mode, position, resumed));
    if (this.status === 'exited') viewer.sendControl({ type: 'exit', exitCode: this.exitCode ?? -1, signal: null });
  }

  /** `abnormal`: the connection dropped (not closed by the client), so a reconnect is likely. */
  detach(viewer: SessionViewer, abnormal = false): void {
    this.#output.detach(viewer, abnormal);
  }

  /** Closes every viewer (the relay is shutting down; the session itself is saved). */
  closeViewers(code: number, reason: string): void {
    this.#output.closeAll(code, reason);
  }

  /** A viewer has rendered the output up to `position`. */
  ack(viewer: SessionViewer, position: number): void {
    this.#output.ack(viewer, position);
  }

  #ready(mode: ReadyMessage['mode'], position: number, resumed: boolean): ReadyMessage {
    return { type: 'ready', sessionId: this.id, sandboxId: this.#host.sandboxId, cols: this.cols, rows: this.rows, cwd: this.cwd, mode, position, resumed };
  }

  /** Keystrokes from a viewer. */
  write(data: Buffer): void {
    if (!this.#pty) return;
    this.#host.touch();
    this.#host.typingPriority?.typed(this);
    this.lastActiveAt = new Date();
    // Once a line is submitted the shell is no longer at its prompt until it draws the next one.
    if (data.includes(0x0d) || data.includes(0x0a)) this.#atPrompt = false;
    if (this.#current) this.#typedSinceDispatch = true;
    // Bytes go to the PTY as they came: no decoding on the keystroke path.
    this.#pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    this.#pty?.resize(cols, rows);
    this.#output.resize(cols, rows);
  }

  #onTerminalData(shell: IPty, data: Buffer): void {
    if (shell !== this.#pty) return;
    this.#host.touch();
    clearTimeout(this.#markerHoldTimer);
    for (const segment of this.#scanner.push(data)) {
      if (segment.kind === 'data') this.#emitTerminal(segment.data);
      else this.#onMarker(segment.payload);
    }
    // A lone ESC at the end of a read may be the start of a marker, or just an escape sequence cut by the read.
    if (!this.#scanner.holding) return;
    this.#markerHoldTimer = setTimeout(() => {
      const held = this.#scanner.flush();
      if (held.length) this.#emitTerminal(held);
    }, MARKER_HOLD_MS);
  }

  #onMarker(payload: string): void {
    const [kind, jobId] = payload.split(';');
    const job = this.#current;
    if (kind === 'C') {
      this.#awaitingFreshPrompt = false;
      clearTimeout(this.#freshPromptTimer);
    } else if (kind === 'P') {
      // A redraw of the stale prompt is not the fresh one that the submitted empty line will bring.
      if (this.#awaitingFreshPrompt) return;
      this.#atPrompt = true;
      this.#firstPrompt?.resolve();
      this.#dispatchNext();
    } else if (kind === 'B' && job && job.id === jobId) {
      job.begun = true;
      this.#showUnshownOutput();
      for (const chunk of this.#heldExecOutput.splice(0)) this.#output.emit(chunk);
    } else if (kind === 'B' && this.#unshownOutput?.jobId === jobId) {
      this.#showUnshownOutput();
    } else if (kind === 'E') {
      if (job && job.id === jobId) job.endedOnTerminal = true;
      // The prompt readline is about to redraw is out of date (the job changed directory): if nobody typed since
      // the job started, submit the empty line so bash draws a fresh prompt. (The job may already be settled: its
      // FIFO end markers can be read before this marker.)
      if (payload.endsWith(';stale') && !this.#typedSinceDispatch) this.#refreshStalePrompt();
    }
  }

  #refreshStalePrompt(): void {
    this.#awaitingFreshPrompt = true;
    // Should the shell not start a new prompt cycle (it always does), do not wait for one forever.
    clearTimeout(this.#freshPromptTimer);
    this.#freshPromptTimer = setTimeout(() => {
      this.#awaitingFreshPrompt = false;
      this.#atPrompt = true;
      this.#dispatchNext();
    }, FRESH_PROMPT_WAIT_MS);
    this.#pty?.write('\r');
  }

  /** Output bound for viewers, the output log and the screen mirror, in terminal order. */
  #emitTerminal(data: Buffer): void {
    if (this.#current?.endedOnTerminal && !this.#current.settled) {
      this.#heldTerminalOutput.push(Buffer.from(data));
      return;
    }
    // node-pty may reuse its read buffer: the log keeps its own copy.
    this.#output.emit(Buffer.from(data));
  }

  #onShellExit(shell: IPty, exitCode: number, signal: number | null): void {
    if (shell !== this.#pty) return;
    this.#pty = undefined;
    this.#pipes?.close();
    this.#pipes = undefined;
    const flushed = this.#scanner.flush();
    if (flushed.length) this.#emitTerminal(flushed);
    this.#showUnshownOutput();
    this.#firstPrompt?.reject(new RelayError('SANDBOX_START_FAILED', `shell exited with code ${exitCode} before its first prompt`));
    this.#settleCurrent(exitCode);
    if (this.#endingOnPurpose) return;
    // A shell killed with its whole sandbox (its init died first, taking the pid namespace with it) has not exited
    // as a session: the sandbox suspends it when it hears of the death, and the next use recreates it.
    if (this.#host.sandboxEnded()) return;
    this.status = 'exited';
    this.exitCode = exitCode;
    for (const job of this.#queue.splice(0)) job.finish(-1);
    for (const viewer of this.#output.viewers()) viewer.sendControl({ type: 'exit', exitCode, signal });
    this.#host.persist(this);
  }

  // ------------------------------------------------------------------ exec side

  /** Runs a command in this shell after the ones queued before it. */
  async exec(request: ExecJobRequest): Promise<ExecResult> {
    const recreated = await this.ensureShell();
    const job = new ExecJob(request, this.id, this.#host.limits.execOutputBytes);
    job.sessionRecreated = recreated;
    if (request.signal?.aborted) {
      job.timedOut = true;
      job.finish(124);
      return job.result;
    }
    this.#queue.push(job);
    if (request.timeoutMs) {
      const timer = setTimeout(() => this.#timeOut(job), request.timeoutMs);
      void job.result.finally(() => clearTimeout(timer));
    }
    if (request.signal) {
      // The caller went away (its HTTP request closed): stop the command as a timeout would, so the session is free.
      const onAbort = () => this.#timeOut(job);
      request.signal.addEventListener('abort', onAbort, { once: true });
      void job.result.finally(() => request.signal!.removeEventListener('abort', onAbort));
    }
    this.#dispatchNext();
    return job.result;
  }

  #dispatchNext(): void {
    if (this.#current || !this.#atPrompt || !this.#pty || this.status !== 'active') return;
    const job = this.#queue.shift();
    if (!job) return;
    this.#current = job;
    const hasStdin = job.request.stdin !== undefined;
    if (hasStdin) this.#writeJobExtraFile(CONTROL_FILES.stdin, job.request.stdin!);
    const spec: Parameters<typeof jobScript>[0] = { id: job.id, command: job.request.command, hasStdin };
    if (job.request.cwd !== undefined) spec.cwd = this.#toSandboxPath(job.request.cwd);
    if (job.request.env) spec.env = job.request.env;
    this.#jobFile!.write(jobScript(spec));
    this.#atPrompt = false;
    this.#typedSinceDispatch = false;
    job.dispatched();
    this.#host.touch();
    this.#pty.write(EXEC_KEY);
  }

  #onExecOutput(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this.#host.touch();
    const job = this.#current;
    if (job) {
      if (stream === 'stdout') job.addStdout(chunk);
      else job.addStderr(chunk);
    }
    // The command's output is not on the PTY (it goes to the FIFOs), so show it to viewers here, with the
    // newline translation the terminal driver would have done.
    const display = Buffer.from(chunk.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    if (job && !job.begun) this.#heldExecOutput.push(display);
    // Not through #emitTerminal: terminal output held after the job's `E` marker must come after this, not before.
    else this.#output.emit(display);
  }

  #onExecOutputEnd(stream: 'stdout' | 'stderr', jobId: string, exitCode: number | undefined): void {
    const job = this.#current;
    if (!job || job.id !== jobId) return;
    if (stream === 'stdout') job.stdoutEnded(exitCode ?? -1);
    else job.stderrEnded();
    if (job.outputComplete) this.#settleCurrent();
  }

  #settleCurrent(exitCode?: number): void {
    const job = this.#current;
    if (!job) return;
    this.#current = undefined;
    clearTimeout(this.#escalation);
    this.#escalation = undefined;
    for (const path of this.#jobExtraFiles) rmSync(path, { force: true });
    this.#jobExtraFiles.clear();
    job.finish(exitCode);
    this.#showUnshownOutput();
    const held = this.#heldExecOutput.splice(0);
    if (!job.begun && this.#pty && held.length) {
      // The result may go out now; the terminal shows the output once the command line before it has arrived.
      this.#unshownOutput = { jobId: job.id, chunks: held, timer: setTimeout(() => this.#showUnshownOutput(), UNSHOWN_OUTPUT_WAIT_MS) };
    } else {
      for (const chunk of held) this.#emitTerminal(chunk);
    }
    for (const chunk of this.#heldTerminalOutput.splice(0)) this.#emitTerminal(chunk);
    this.#dispatchNext();
  }

  #showUnshownOutput(): void {
    const unshown = this.#unshownOutput;
    if (!unshown) return;
    this.#unshownOutput = undefined;
    clearTimeout(unshown.timer);
    for (const chunk of unshown.chunks) this.#output.emit(chunk);
  }

  /**
   * Timeout: interrupt the foreground process group like Ctrl-C (which also aborts the rest of a command list);
   * if the command ignores that, kill every process below the shell and interrupt the shell, until it is back.
   */
  #timeOut(job: ExecJob): void {
    if (job.settled) return;
    job.timedOut = true;
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      job.finish(124);
      return;
    }
    if (job !== this.#current || !this.#pty || !this.#instance) return;
    const bashPid = this.#instance.shellHostPid(this.#pty);
    if (!bashPid) return;
    const interrupt = () => {
      const stat = readProcStat(bashPid);
      if (stat && stat.tpgid > 0 && stat.tpgid !== stat.pgid) signalQuietly(-stat.tpgid, 'SIGINT');
      else signalQuietly(bashPid, 'SIGINT');
    };
    interrupt();
    let attempts = 0;
    const escalate = () => {
      if (job.settled) return;
      if (++attempts > TIMEOUT_KILL_ATTEMPTS) {
        // The shell itself ignores SIGINT (a `trap '' INT` in this session): replace it, keeping its saved state.
        this.#settleCurrent(137);
        void this.#replaceShell('the command could not be stopped; the shell was restarted').catch(() => undefined);
        return;
      }
      this.#writeJobExtraFile(CONTROL_FILES.restoreTty, '');
      for (const pid of descendantPids(bashPid)) signalQuietly(pid, 'SIGKILL');
      signalQuietly(bashPid, 'SIGINT');
      this.#escalation = setTimeout(escalate, this.#host.limits.killEscalationMs);
    };
    this.#escalation = setTimeout(escalate, this.#host.limits.killEscalationMs);
  }

  async #replaceShell(notice: string): Promise<void> {
    await this.#endShell();
    this.#emitNotice(notice);
    await this.#startOnce('replace');
  }

  // ------------------------------------------------------------------ sleep, wake, end

  /** The shell reported its cwd and exported env (at its prompt or the end of an exec): that is what a wake restores. */
  #onShellState(record: Buffer): void {
    const state = parseStateFile(record);
    if (!state) return;
    const cwd = this.#fromSandboxPath(state.cwd);
    const cwdChanged = cwd !== this.cwd;
    this.cwd = cwd;
    this.env = state.env;
    if (cwdChanged) this.#host.persist(this);
  }

  /** The sandbox is going to sleep: save the shell's state, end it, tell viewers. */
  suspend(): void {
    if (this.status !== 'active' && this.status !== 'starting') return;
    this.#endingOnPurpose = true;
    const shell = this.#pty;
    this.#pty = undefined;
    this.#pipes?.close();
    this.#pipes = undefined;
    this.#settleCurrent(-1);
    if (shell) signalQuietly(shell.pid, 'SIGKILL');
    this.status = 'sleeping';
    this.#host.persist(this);
    for (const viewer of this.#output.viewers()) viewer.sendControl({ type: 'sleeping' });
  }

  /** Ends the shell for good (session deleted or relay closing). */
  async dispose(closeCode: number, reason: string): Promise<void> {
    await this.#endShell();
    for (const job of this.#queue.splice(0)) job.finish(-1);
    this.#output.closeAll(closeCode, reason);
    this.#output.dispose();
    this.#host.typingPriority?.forget(this);
    this.#jobFile?.close();
    this.#jobFile = undefined;
    rmSync(this.#host.controlDirFor(this.id), { recursive: true, force: true });
  }

  #writeJobExtraFile(name: string, content: string | Uint8Array): void {
    const path = join(this.#host.controlDirFor(this.id), name);
    writeFileSync(path, content);
    this.#jobExtraFiles.add(path);
  }

  async #endShell(): Promise<void> {
    // The sandbox may remove the control directory once the shell is gone; the next shell opens a new job file.
    this.#jobFile?.close();
    const shell = this.#pty;
    if (!shell) return;
    this.#endingOnPurpose = true;
    const exited = new Promise<void>((resolve) => shell.onExit(() => resolve()));
    if (this.#instance) {
      const bashPid = this.#instance.shellHostPid(shell);
      if (bashPid) for (const pid of descendantPids(bashPid)) signalQuietly(pid, 'SIGKILL');
      if (bashPid) signalQuietly(bashPid, 'SIGKILL');
    }
    signalQuietly(shell.pid, 'SIGKILL');
    await exited;
  }

  /** Tells attached viewers the session was recreated, then resends `ready` and the screen. */
  announceRecreated(restoredEnv: string[]): void {
    for (const viewer of this.#output.viewers()) viewer.sendControl({ type: 'session-recreated', sessionId: this.id, cwd: this.cwd, restoredEnv, reason: 'slept' });
    this.#output.resendScreen((position, resumed) => this.#ready('recreated', position, resumed));
  }

  #toSandboxPath(path: string): string {
    const workspace = this.#instance?.paths.workspace ?? '/workspace';
    return workspace === '/workspace' ? path : path.replace(/^\/workspace(?=\/|$)/, workspace);
  }

  #fromSandboxPath(path: string): string {
    const workspace = this.#instance?.paths.workspace ?? '/workspace';
    return workspace === '/workspace' || !path.startsWith(workspace) ? path : `/workspace${path.slice(workspace.length)}`;
  }
}
