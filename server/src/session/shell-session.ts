import { rmSync } from 'node:fs';
import type { ExecResult, ReadyMessage, RecreationReason, SessionInfo, SessionStatus } from '@sandbox-terminal/protocol';
import { RelayError } from '../errors.ts';
import type { SandboxPaths } from '../sandbox/backend.ts';
import { fromShellPath, toShellPath } from '../sandbox/shell-paths.ts';
import { ExecJob, execEnd, type ExecEnd, type ExecJobRequest } from './exec-job.ts';
import { ExecQueue } from './exec-queue.ts';
import { recreationNotice, type Recreation } from './recreation.ts';
import { sessionEnvironment } from './session-environment.ts';
import { SessionOutput, type SessionViewer } from './session-output.ts';
import { CONTROL_FILES, parseStateFile } from './bash-contract.ts';
import { ShellProcess, type ShellExit } from './shell-process.ts';
import { TerminalOrder } from './terminal-order.ts';
import { escalateTimeout } from './timeout-escalation.ts';
import type { ScreenSnapshot } from './screen-mirror.ts';
import type { SessionHost, SessionInit } from './session-host.ts';
import { OutputPacer } from './typing-priority.ts';

export type { SessionViewer } from './session-output.ts';
export type { Recreation } from './recreation.ts';
export type { SessionHost, SessionInit } from './session-host.ts';

/** Why a new shell starts: a new session, a wake after the shell was lost, a restart asked for, a stuck shell replaced. */
type LaunchKind = 'create' | 'wake' | 'restart' | 'replace';

/**
 * One session: a long-lived bash inside a sandbox (`ShellProcess`, a new one each time the shell has to start again),
 * the viewers watching it (`SessionOutput`, fed in terminal order by `TerminalOrder`), and the exec calls it runs one
 * at a time (`ExecQueue`). Survives its shell: asleep (state saved) or exited, it keeps its id, cwd, env and
 * scrollback, and a wake or restart starts a new shell under the same id.
 */
export class ShellSession {
  readonly id: string;
  readonly createdAt: Date;
  cwd: string;
  env: Record<string, string>;
  lastActiveAt = new Date();
  cols = 80;
  rows = 24;

  readonly #host: SessionHost;
  readonly #output: SessionOutput;
  readonly #order: TerminalOrder;
  readonly #queue: ExecQueue;
  #shell: ShellProcess | undefined;
  /** A shell being started (also while the old one is ended first): the wake that callers wait for. */
  #launching: Promise<Recreation | undefined> | undefined;
  /** Without a live shell: asleep (the next start recreates it, for this reason) or exited (by the user or a kill). */
  #rest: SessionInit['rest'];
  #escalation: { cancel(): void } | undefined;
  /** The last state record, to save only what changed. */
  #lastState: Buffer | undefined;
  /** The latest save of a changed cwd or env: an exec's result waits for it, so what it changed outlives a crash. */
  #stateSaved: Promise<void> = Promise.resolve();
  readonly #recreatedListeners = new Set<(recreation: Recreation) => void>();

  constructor(host: SessionHost, init: SessionInit) {
    this.#host = host;
    this.id = init.id;
    this.cwd = init.cwd;
    this.env = init.env;
    this.createdAt = init.createdAt ?? new Date();
    this.#rest = init.rest;
    if (init.cols && init.rows) [this.cols, this.rows] = [init.cols, init.rows];
    const pacer = host.typingPriority ? new OutputPacer(host.typingPriority, this) : undefined;
    this.#output = new SessionOutput(host.limits, this.cols, this.rows, { pause: () => this.#shell?.pause(), resume: () => this.#shell?.resume() }, init.screen, pacer);
    this.#order = new TerminalOrder((data) => this.#output.emit(data));
    this.#queue = new ExecQueue((job) => this.#stopTimedOut(job));
  }

  get status(): SessionStatus | 'starting' {
    if (this.#launching) return 'starting';
    if (this.#rest) return this.#rest.status;
    return this.#shell?.state === 'ready' ? 'active' : 'starting';
  }

  get exitCode(): number | undefined {
    return this.#rest?.status === 'exited' ? this.#rest.exitCode : undefined;
  }

  /** The signal that killed the shell, when one did. */
  get exitSignal(): number | undefined {
    return this.#rest?.status === 'exited' ? this.#rest.signal : undefined;
  }

  /** While asleep: why the next start is a recreation (saved with the record, so a new relay knows it too). */
  get recreationReason(): RecreationReason | undefined {
    return this.#rest?.status === 'sleeping' ? this.#rest.reason : undefined;
  }

  get viewerCount(): number {
    return this.#output.viewerCount;
  }

  /** The screen as the session's viewers see it, with its output position (saved with the session record). */
  screen(): ScreenSnapshot {
    return this.#output.mirror.snapshot();
  }

  /** Output position just after the last byte the session showed. */
  get outputPosition(): number {
    return this.#output.log.end;
  }

  /** Resolves once the screen holds all output so far (the mirror parses lazily): before saving for a restart. */
  async settleScreen(): Promise<void> {
    await this.#output.mirror.settled();
  }

  info(): SessionInfo {
    const status = this.status;
    const info: SessionInfo = {
      id: this.id,
      sandboxId: this.#host.sandboxId,
      status: status === 'starting' ? 'active' : status,
      cwd: this.cwd,
      createdAt: this.createdAt.toISOString(),
      lastActiveAt: this.lastActiveAt.toISOString(),
      viewers: this.#output.viewerCount,
      cols: this.cols,
      rows: this.rows,
    };
    if (this.exitCode !== undefined) info.exitCode = this.exitCode;
    if (this.exitSignal !== undefined) info.signal = this.exitSignal;
    return info;
  }

  /** A shell runs or starts (not asleep, not exited). */
  get hasShell(): boolean {
    return this.#shell !== undefined && this.#shell.state !== 'ended';
  }

  /** Whether a shell is starting or an exec is queued or running (the sandbox is not idle then). */
  get busy(): boolean {
    return this.#launching !== undefined || this.#queue.busy;
  }

  /** Calls `listener` each time the session is recreated (once per recreation, whoever caused it). */
  onRecreated(listener: (recreation: Recreation) => void): { dispose(): void } {
    this.#recreatedListeners.add(listener);
    return { dispose: () => this.#recreatedListeners.delete(listener) };
  }

  /**
   * Makes sure a shell runs or is on its way. Resolves with the recreation when the session had to be brought back
   * (asleep, or its sandbox gone) for this call; throws SESSION_EXITED for a shell the user ended.
   */
  async wake(): Promise<Recreation | undefined> {
    if (this.#launching) return this.#launching;
    if (this.#rest?.status === 'exited') throw new RelayError('SESSION_EXITED', `session ${this.id} has exited (code ${this.exitCode}); restart it to continue`);
    if (this.#shell && this.#shell.state !== 'ended') return undefined;
    return this.#launch(this.#rest?.status === 'sleeping' ? 'wake' : 'create');
  }

  /** Starts a new shell under the same id after an exit (or replaces a running one), in the last cwd with the env. */
  async restart(): Promise<void> {
    await this.#launching?.catch(() => undefined);
    await this.#launch('restart');
  }

  #launch(kind: LaunchKind, notice?: string): Promise<Recreation | undefined> {
    const launching = this.#startShell(kind, notice).finally(() => {
      if (this.#launching === launching) this.#launching = undefined;
    });
    this.#launching = launching;
    return launching;
  }

  async #startShell(kind: LaunchKind, notice: string | undefined): Promise<Recreation | undefined> {
    await this.#shell?.end();
    const instance = await this.#host.ensureRunning();
    const reason = kind === 'wake' ? this.recreationReason : undefined;
    const recreation: Recreation | undefined = reason && { reason, cwd: this.cwd, restoredEnv: Object.keys(this.env) };
    if (recreation) this.#emitNotice(recreationNotice(recreation));
    if (kind === 'restart') this.#emitNotice(`new shell in ${this.cwd}`);
    if (notice) this.#emitNotice(notice);
    const controlPathInSandbox = `${instance.paths.control}/${this.id}`;
    const shell: ShellProcess = new ShellProcess(
      {
        instance,
        controlDir: this.#host.controlDirFor(this.id),
        env: sessionEnvironment(instance.paths, controlPathInSandbox, toShellPath(instance.paths, this.cwd), this.env),
        cols: this.cols,
        rows: this.rows,
        paused: this.#output.paused,
        startTimeoutMs: this.#host.limits.shellStartTimeoutMs,
        inputPendingBytes: this.#host.limits.terminalInputPendingBytes,
      },
      {
        terminal: (data) => this.#onTerminal(data),
        jobBegun: (jobId) => this.#order.begun(jobId),
        jobEndedOnTerminal: (jobId) => this.#order.endedOnTerminal(jobId),
        prompt: () => this.#pump(),
        execOutput: (stream, chunk) => this.#onExecOutput(stream, chunk),
        execEnd: (stream, jobId, exitCode) => this.#onExecEnd(stream, jobId, exitCode),
        state: (record) => this.#onShellState(instance.paths, record),
        exit: (exit) => this.#onShellExit(shell, exit),
      },
    );
    this.#shell = shell;
    this.#lastState = undefined;
    try {
      await shell.ready;
    } catch (error) {
      await shell.end();
      throw error;
    }
    // Suspended or disposed while it started: that shell is already being ended.
    if (this.#shell !== shell) throw new RelayError('SANDBOX_START_FAILED', `the sandbox of session ${this.id} stopped while its shell started`);
    this.#rest = undefined;
    void this.#host.persist(this);
    if (recreation) this.#announce(recreation);
    if (kind === 'restart') this.#output.resendScreen((position, resumed) => this.#ready('created', position, resumed));
    return recreation;
  }

  #onTerminal(data: Buffer): void {
    this.#host.touch();
    this.#order.terminal(data);
  }

  /** Tells attached viewers and listeners, once: `session-recreated`, then `ready` and the screen again. */
  #announce(recreation: Recreation): void {
    for (const viewer of this.#output.viewers()) viewer.sendControl({ type: 'session-recreated', sessionId: this.id, ...recreation });
    this.#output.resendScreen((position, resumed) => this.#ready('recreated', position, resumed));
    for (const listener of this.#recreatedListeners) listener(recreation);
  }

  /** A dim line in the terminal, between the old output and the new shell's prompt. */
  #emitNotice(text: string): void {
    this.#order.terminal(Buffer.from(`\r\n\x1b[2m--- ${text} ---\x1b[0m\r\n`));
  }

  #onShellExit(shell: ShellProcess, exit: ShellExit): void {
    if (shell !== this.#shell) return;
    const end = execEnd(exit.exitCode, exit.signal);
    this.#settle(end);
    this.#order.flush();
    if (exit.expected) return;
    // A shell killed with its whole sandbox (its init died first, taking the pid namespace with it) has not exited
    // as a session: the sandbox suspends it when it hears of the death, and the next use recreates it.
    if (this.#host.sandboxEnded()) return;
    this.#rest = { status: 'exited', exitCode: end.exitCode, ...(end.signal !== undefined ? { signal: end.signal } : {}) };
    this.#queue.failWaiting({ exitCode: -1 });
    for (const viewer of this.#output.viewers()) viewer.sendControl({ type: 'exit', exitCode: end.exitCode, signal: exit.signal });
    // An exited session's record carries its screen, which must hold the shell's last output (the mirror is lazy).
    void this.#output.mirror.settled().then(() => this.#host.persist(this));
  }

  /** The shell reported its cwd and exported env (at its prompt or the end of an exec): saved when they changed. */
  #onShellState(paths: SandboxPaths, record: Buffer): void {
    // Most prompts change nothing: comparing the bytes is cheaper than parsing them.
    if (this.#lastState?.equals(record)) return;
    const state = parseStateFile(record);
    if (!state) return;
    this.#lastState = Buffer.from(record);
    this.cwd = fromShellPath(paths, state.cwd);
    this.env = state.env;
    this.#stateSaved = this.#host.persist(this);
  }

  // ------------------------------------------------------------------ exec

  /** Runs a command in this shell after the ones queued before it. */
  async exec(request: ExecJobRequest): Promise<ExecResult> {
    const recreation = await this.wake();
    const job = new ExecJob(request, this.id, this.#host.limits.execOutputBytes);
    job.recreation = recreation?.reason;
    this.#queue.add(job);
    this.#pump();
    const result = await job.result;
    await this.#stateSaved;
    return result;
  }

  #pump(): void {
    const shell = this.#shell;
    if (!shell) return;
    this.#queue.pump({ acceptsJob: shell.acceptsJob, run: (job) => this.#run(shell, job) });
  }

  #run(shell: ShellProcess, job: ExecJob): void {
    const { command, cwd, env, stdin } = job.request;
    this.#order.jobStarted(job.id);
    job.dispatched();
    this.#host.touch();
    shell.run({ id: job.id, command, ...(cwd !== undefined ? { cwd: toShellPath(shell.paths, cwd) } : {}), ...(env ? { env } : {}) }, stdin);
  }

  #onExecOutput(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this.#host.touch();
    const job = this.#queue.current;
    if (job) {
      if (stream === 'stdout') job.addStdout(chunk);
      else job.addStderr(chunk);
    }
    this.#order.execOutput(chunk);
  }

  #onExecEnd(stream: 'stdout' | 'stderr', jobId: string, exitCode: number | undefined): void {
    const job = this.#queue.current;
    if (!job || job.id !== jobId) return;
    if (stream === 'stdout') job.stdoutEnded(exitCode ?? -1);
    else job.stderrEnded();
    if (job.outputComplete) this.#settle();
  }

  /** The running job is over; the shell may take the next. */
  #settle(end?: ExecEnd): void {
    if (!this.#queue.settleCurrent(end)) return;
    this.#escalation?.cancel();
    this.#escalation = undefined;
    this.#shell?.jobSettled();
    this.#order.settled(this.#shell?.state === 'ready');
    this.#pump();
  }

  /** A running job's timeout fired: interrupt, kill, and at last replace the shell (see timeout-escalation.ts). */
  #stopTimedOut(job: ExecJob): void {
    const shell = this.#shell;
    const bashPid = shell?.hostPid;
    if (!shell || !bashPid || job !== this.#queue.current) return;
    this.#escalation = escalateTimeout({
      bashPid,
      intervalMs: this.#host.limits.killEscalationMs,
      restoreTty: () => shell.writeJobFile(CONTROL_FILES.restoreTty, ''),
      giveUp: () => {
        // The shell itself ignores SIGINT (a `trap '' INT` in this session): replace it, keeping its saved state.
        this.#settle({ exitCode: 137, signal: 9 });
        if (!this.#launching) void this.#launch('replace', 'the command could not be stopped; the shell was restarted').catch(() => undefined);
      },
    });
  }

  // ------------------------------------------------------------------ terminal side

  /** Attaches a viewer: `ready`, then either exactly the output after `cursor` or the current screen, then live. */
  attach(viewer: SessionViewer, mode: 'created' | 'attached' | 'recreated', cursor?: number): void {
    if (this.#output.viewerCount >= this.#host.limits.viewersPerSession) {
      throw new RelayError('LIMIT_EXCEEDED', `session ${this.id} already has ${this.#output.viewerCount} viewers`, { limit: 'viewersPerSession', value: this.#host.limits.viewersPerSession });
    }
    this.#output.attach(viewer, cursor, (position, resumed) => this.#ready(mode, position, resumed));
    if (this.#rest?.status === 'exited') viewer.sendControl({ type: 'exit', exitCode: this.#rest.exitCode, signal: this.#rest.signal ?? null });
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
    if (!this.#shell) return;
    this.#host.touch();
    this.#host.typingPriority?.typed(this);
    this.lastActiveAt = new Date();
    this.#shell.typed(data);
  }

  resize(cols: number, rows: number): void {
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    this.#shell?.resize(cols, rows);
    this.#output.resize(cols, rows);
  }

  // ------------------------------------------------------------------ sleep, end

  /** The sandbox stops (`reason`: why the next start will be a recreation): save the state, end the shell, tell viewers. */
  suspend(reason: RecreationReason): void {
    if (this.#rest) return;
    void this.#dropShell()?.end();
    this.#rest = { status: 'sleeping', reason };
    void this.#host.persist(this);
    for (const viewer of this.#output.viewers()) viewer.sendControl({ type: 'sleeping' });
  }

  /**
   * Lets go of the shell (its exit is no longer the session's business) and ends the calls on it: the running one and,
   * as nothing will wake the session for them, the waiting ones.
   */
  #dropShell(): ShellProcess | undefined {
    const shell = this.#shell;
    this.#shell = undefined;
    this.#settle({ exitCode: -1 });
    this.#order.flush();
    this.#queue.failWaiting({ exitCode: -1 });
    return shell;
  }

  /** Ends the shell for good (session deleted or relay closing). */
  async dispose(closeCode: number, reason: string): Promise<void> {
    await this.#dropShell()?.end();
    this.#output.closeAll(closeCode, reason);
    this.#output.dispose();
    this.#host.typingPriority?.forget(this);
    rmSync(this.#host.controlDirFor(this.id), { recursive: true, force: true });
  }
}
