import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { RelayError } from '../errors.ts';
import type { RelayLimits } from '../limits.ts';
import type { RelayMetrics } from '../metrics.ts';
import type { SessionRegistry } from '../registry/session-registry.ts';
import { BASHRC, CONTROL_FILES } from '../session/shell-integration.ts';
import { ShellSession, type SessionHost } from '../session/shell-session.ts';
import type { SandboxBackend, SandboxInstance } from './backend.ts';
import { WorkspaceFiles } from './workspace-files.ts';
import type { TypingPriority } from '../session/typing-priority.ts';

export interface SandboxDirs {
  workspace: string;
  tmp: string;
  control: string;
}

/** How long deleting a sandbox waits for its processes to be gone after the backend's stop() before it gives up. */
const PROCESSES_GONE_TIMEOUT_MS = 10_000;
const PROCESSES_GONE_POLL_MS = 10;

/** What one sandbox gets beyond the relay-wide limits (guest sandboxes set these; see `GuestLimits`). */
export interface SandboxProfile {
  /** Sleeps after this long without activity when it is shorter than the relay-wide idle timeout. */
  idleTimeoutMs?: number;
  /** Passed to the backend as `SandboxResources.tmpBytes`. */
  tmpBytes?: number;
  /** Passed to the backend as `SandboxResources.workspaceBytes`. */
  workspaceBytes?: number;
}

/**
 * One sandbox as the relay sees it: its directories, its running instance (when awake), its sessions, and when
 * it was last active. Starting is on demand; sleeping stops every process and keeps /workspace and the sessions.
 */
export class SandboxRuntime {
  readonly sessions = new Map<string, ShellSession>();
  readonly files: WorkspaceFiles;
  lastActivityAt = Date.now();
  /** One-off execs running right now (they keep the sandbox awake). */
  oneShotRuns = 0;
  #instance: SandboxInstance | undefined;
  #starting: Promise<SandboxInstance> | undefined;
  /** A sleep in progress; a wake waits for it so two instances never share the directories. */
  #stopping: Promise<void> | undefined;
  readonly #sessionHost: SessionHost;
  /** Set once deletion began: the runtime never starts again (the pool makes a new one for the id afterwards). */
  #deleting = false;
  /** Sessions last saved as asleep: their next start is a recreation (a restart or a replaced shell is not). */
  readonly #asleep = new WeakSet<ShellSession>();

  constructor(
    readonly id: string,
    readonly dirs: SandboxDirs,
    private readonly backend: SandboxBackend,
    private readonly network: boolean,
    readonly limits: RelayLimits,
    typingPriority: TypingPriority,
    private readonly registry: SessionRegistry,
    /** Already bound to this sandbox's id (a child logger). */
    private readonly log: Logger,
    private readonly metrics?: RelayMetrics,
    readonly profile: SandboxProfile = {},
  ) {
    mkdirSync(dirs.workspace, { recursive: true });
    this.files = new WorkspaceFiles(dirs.workspace, limits.fileBytes);
    this.#sessionHost = {
      sandboxId: id,
      limits,
      typingPriority,
      controlDirFor: (sessionId) => join(dirs.control, sessionId),
      ensureRunning: () => this.ensureRunning(),
      sandboxEnded: () => this.#ended(),
      touch: () => this.touch(),
      persist: (session) => {
        this.#noteRecreation(session);
        void this.persist(session);
      },
    };
  }

  get running(): boolean {
    return this.#instance !== undefined;
  }

  get instance(): SandboxInstance | undefined {
    return this.#instance;
  }

  /** Something happened in the sandbox: postpone its sleep. */
  touch(): void {
    this.lastActivityAt = Date.now();
  }

  get busy(): boolean {
    return this.oneShotRuns > 0 || [...this.sessions.values()].some((session) => session.busy);
  }

  /** True when the sandbox's processes have ended, even before the backend's exit event has arrived. */
  #ended(): boolean {
    const instance = this.#instance;
    return !instance || instance.alive?.() === false;
  }

  /** Set by the pool: refuses a start (LIMIT_EXCEEDED) when the relay already runs as many sandboxes as it may. */
  admitStart: (() => void) | undefined;

  /** True while the sandbox runs or is starting: what counts against `sandboxesPerRelay`. */
  get live(): boolean {
    return this.#instance !== undefined || this.#starting !== undefined;
  }

  ensureRunning(): Promise<SandboxInstance> {
    if (this.#deleting) return Promise.reject(new RelayError('SANDBOX_DELETING', `sandbox ${this.id} is being deleted; try again in a moment`));
    if (this.#instance) return Promise.resolve(this.#instance);
    if (!this.#starting) {
      try {
        this.admitStart?.();
      } catch (error) {
        return Promise.reject(error);
      }
      this.#starting = this.#start().finally(() => (this.#starting = undefined));
    }
    return this.#starting;
  }

  async #start(): Promise<SandboxInstance> {
    await this.#stopping;
    // A container's /tmp does not survive a restart; the control dir is the relay's and is rebuilt.
    rmSync(this.dirs.tmp, { recursive: true, force: true });
    rmSync(this.dirs.control, { recursive: true, force: true });
    mkdirSync(this.dirs.tmp, { recursive: true, mode: 0o1777 });
    mkdirSync(this.dirs.control, { recursive: true });
    mkdirSync(this.dirs.workspace, { recursive: true });
    writeFileSync(join(this.dirs.control, CONTROL_FILES.bashrc), BASHRC);
    let instance: SandboxInstance;
    try {
      instance = await this.backend.start({
        id: this.id,
        workspaceDir: this.dirs.workspace,
        tmpDir: this.dirs.tmp,
        controlDir: this.dirs.control,
        network: this.network,
        resources: {
          processes: this.limits.sandboxProcesses,
          memoryBytes: this.limits.sandboxMemoryBytes,
          cpuCores: this.limits.sandboxCpuCores,
          ...(this.profile.tmpBytes !== undefined ? { tmpBytes: this.profile.tmpBytes } : {}),
          ...(this.profile.workspaceBytes !== undefined ? { workspaceBytes: this.profile.workspaceBytes } : {}),
        },
      });
    } catch (error) {
      throw new RelayError('SANDBOX_START_FAILED', `sandbox ${this.id} could not start: ${(error as Error).message}`);
    }
    this.#instance = instance;
    this.touch();
    this.log.info({ backend: this.backend.name }, 'sandbox started');
    void instance.exited.then(() => {
      if (this.#instance !== instance) return;
      // Everything in it died (killed from outside): sessions become recreatable, as after a sleep.
      this.log.warn('sandbox ended unexpectedly');
      for (const session of this.sessions.values()) session.suspend();
      this.#instance = undefined;
    });
    return instance;
  }

  /** Saves every session's state, stops all processes, and keeps the files. */
  async sleep(reason: string): Promise<void> {
    const instance = this.#instance;
    if (!instance) return;
    for (const session of this.sessions.values()) session.suspend();
    this.#instance = undefined;
    this.#stopping = instance.stop().finally(() => (this.#stopping = undefined));
    await this.#stopping;
    this.metrics?.sandboxSlept();
    this.log.info({ reason }, 'sandbox asleep');
  }

  /**
   * The first step of deleting the sandbox: refuses every later start, waits for a start in progress, stops the
   * instance and resolves only once the backend says its processes are gone. Its workspace may be removed only
   * after this: a recursive delete by name while a sandbox process runs can be raced into host files (symlink swaps).
   */
  async stopForDeletion(): Promise<void> {
    this.#deleting = true;
    await this.#starting?.catch(() => undefined);
    const instance = this.#instance;
    this.#instance = undefined;
    if (instance) this.#stopping = instance.stop().finally(() => (this.#stopping = undefined));
    await this.#stopping;
    // bubblewrap's stop() resolves when the outer bwrap exits; the namespace's init (and so every process in it) dies
    // a moment later, by its parent-death signal. Deleting the workspace has to wait for that.
    const deadline = Date.now() + PROCESSES_GONE_TIMEOUT_MS;
    while (instance?.alive?.() === true && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, PROCESSES_GONE_POLL_MS));
    if (instance?.alive?.() === true) throw new RelayError('INTERNAL', `sandbox ${this.id} still has processes ${PROCESSES_GONE_TIMEOUT_MS} ms after it was stopped; its workspace is kept`);
    this.log.info('sandbox stopped for deletion');
  }

  /** A new session object bound to this sandbox (not started). */
  newSession(init: ConstructorParameters<typeof ShellSession>[1]): ShellSession {
    const session = new ShellSession(this.#sessionHost, init);
    if (init.status === 'sleeping') this.#asleep.add(session);
    this.sessions.set(session.id, session);
    return session;
  }

  async persist(session: ShellSession): Promise<void> {
    if (!this.sessions.has(session.id)) return;
    try {
      await this.registry.put({
        id: session.id,
        sandboxId: this.id,
        status: session.status === 'starting' ? 'active' : session.status,
        cwd: session.cwd,
        env: session.env,
        createdAt: session.createdAt.toISOString(),
        ...(session.exitCode !== undefined ? { exitCode: session.exitCode } : {}),
        // The screen only matters once the shell is gone (asleep, exited, relay closing): skip it while active.
        ...(session.status !== 'active' && session.status !== 'starting' ? { screen: session.screen(), cols: session.cols, rows: session.rows } : {}),
      });
    } catch (error) {
      this.log.error({ session: session.id, err: error }, 'could not save session record');
    }
  }

  #noteRecreation(session: ShellSession): void {
    if (session.status === 'sleeping') this.#asleep.add(session);
    else if (session.status === 'active' && this.#asleep.delete(session)) {
      this.metrics?.sessionRecreated();
      this.log.info({ session: session.id, cwd: session.cwd }, 'session recreated');
    }
  }
}
