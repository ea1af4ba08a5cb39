import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { join } from 'node:path';
import { TERMINAL_CLOSE_CODES, type RecreationReason } from '@sandbox-terminal/protocol';
import type { Logger } from 'pino';
import { RelayError } from '../errors.ts';
import type { RelayLimits } from '../limits.ts';
import type { SessionRegistry } from '../registry/session-registry.ts';
import { BASHRC, CONTROL_FILES } from '../session/bash-contract.ts';
import { ShellSession, type SessionHost, type SessionInit } from '../session/shell-session.ts';
import type { SandboxBackend, SandboxInstance } from './backend.ts';
import { WorkspaceFiles } from './workspace-files.ts';
import { makePrivateDirectory, type SandboxIds } from './sandbox-ids.ts';
import { prepareWorkspace } from './workspace-ownership.ts';
import { mountWorkspaceVolume, unmountWorkspaceVolume } from './workspace-volume.ts';
import type { TypingPriority } from '../session/typing-priority.ts';

export interface SandboxDirs {
  workspace: string;
  control: string;
}

/** How long deleting a sandbox waits for its processes to be gone after the backend's stop() before it gives up. */
const PROCESSES_GONE_TIMEOUT_MS = 10_000;
const PROCESSES_GONE_POLL_MS = 10;

/** What one sandbox gets beyond the relay-wide limits (guest sandboxes set these; see `GuestLimits`). */
export interface SandboxProfile {
  /** Sleeps after this long without activity when it is shorter than the relay-wide idle timeout. */
  idleTimeoutMs?: number;
  /** Passed to the backend as `SandboxResources.workspaceBytes`. */
  workspaceBytes?: number;
}

/** Why a sandbox goes to sleep: idle (the reaper), asked for (the admin endpoint, tests), or the relay closing. */
export type SleepCause = 'idle' | 'requested' | 'relay-closing';

/** The next start of a session suspended for each cause is a recreation for this reason. */
const RECREATION_AFTER: Record<SleepCause, RecreationReason> = { idle: 'slept', requested: 'slept', 'relay-closing': 'relay-restarted' };

/**
 * The sandbox's side of ownership when several relays share Redis (cluster/sandbox-ownership.ts); absent for a relay
 * on its own.
 */
export interface RuntimeOwnership {
  /** Taken before a start and held while the sandbox runs; SANDBOX_UNAVAILABLE when another relay runs it. */
  holdWhileRunning(sandboxId: string): Promise<{ release(): void }>;
  /** Whether this relay may write the sandbox's records now (it holds a lease it can trust): a fence for a lost lease. */
  mayWrite(sandboxId: string): boolean;
  /** Written into each session record: the relay that ran the session last (its advertised URL). */
  readonly relayName: string;
}

/** Who hears what happens to sandboxes and sessions (the relay's metrics); every method optional. */
export interface SandboxObserver {
  sandboxSlept?(): void;
  sessionRecreated?(reason: RecreationReason): void;
}

/**
 * One sandbox as the relay sees it: its directories, its running instance (when awake), its sessions, and when
 * it was last active. Starting is on demand; sleeping stops every process and keeps /workspace and the sessions.
 */
export class SandboxRuntime {
  readonly #sessions = new Map<string, ShellSession>();
  readonly files: WorkspaceFiles;
  lastActivityAt = Date.now();
  /** One-off execs running right now (they keep the sandbox awake). */
  oneShotRuns = 0;
  #instance: SandboxInstance | undefined;
  readonly #workspaceReady: Promise<void>;
  /** The workspace is a mounted volume of its own size. */
  #volume = false;
  #starting: Promise<SandboxInstance> | undefined;
  /** A sleep in progress; a wake waits for it so two instances never share the directories. */
  #stopping: Promise<void> | undefined;
  readonly #sessionHost: SessionHost;
  /** Set once deletion began: the runtime never starts again (the pool makes a new one for the id afterwards). */
  #deleting = false;
  /** While running, with several relays: the hold that keeps this relay the sandbox's owner. */
  #runningHold: { release(): void } | undefined;
  /** The lease was lost: nothing more is written, the sandbox is stopped and forgotten. */
  #abandoned = false;
  /** Output positions of the last screen checkpoint of each active session. */
  readonly #checkpointed = new WeakMap<ShellSession, number>();

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
    private readonly observer: SandboxObserver = {},
    /** The host ids the sandbox runs under; undefined without isolation. */
    private readonly ids?: SandboxIds,
    /** This sandbox's own idle timeout and workspace size (guest sandboxes). */
    readonly profile: SandboxProfile = {},
    private readonly ownership?: RuntimeOwnership,
  ) {
    this.#workspaceReady = this.#prepareWorkspace();
    this.#workspaceReady.catch((error: unknown) => this.log.error({ err: error }, 'could not prepare the workspace'));
    // A file call before the first start must not find the directory missing or still host root's.
    this.files = new WorkspaceFiles(dirs.workspace, limits.fileBytes, limits.listEntries, ids, this.#workspaceReady);
    this.#sessionHost = {
      sandboxId: id,
      limits,
      typingPriority,
      controlDirFor: (sessionId) => join(dirs.control, sessionId),
      ensureRunning: () => this.ensureRunning(),
      sandboxEnded: () => this.#ended(),
      touch: () => this.touch(),
      persist: (session) => this.persist(session),
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
    if (this.oneShotRuns > 0) return true;
    for (const session of this.#sessions.values()) if (session.busy) return true;
    return false;
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

  /** The workspace exists with its owner (migrated once if needed): file calls and starts wait for it. */
  get workspaceReady(): Promise<void> {
    return this.#workspaceReady;
  }

  /**
   * With a size of its own (`workspaceBytes` of a guest profile, else `sandboxWorkspaceBytes`), the workspace is a
   * volume (`workspace-volume.ts`), mounted before anything touches it; then owner and mode, migrated once if needed.
   */
  async #prepareWorkspace(): Promise<void> {
    const bytes = this.profile.workspaceBytes ?? (this.limits.sandboxWorkspaceBytes || undefined);
    if (bytes && this.ids) {
      makePrivateDirectory(dirname(this.dirs.workspace));
      mkdirSync(this.dirs.workspace, { recursive: true, mode: 0o700 });
      try {
        const outcome = await mountWorkspaceVolume({ stateDir: dirname(this.dirs.workspace), workspaceDir: this.dirs.workspace, bytes, ids: this.ids });
        this.#volume = true;
        this.log.debug({ outcome, bytes }, 'workspace volume');
      } catch (error) {
        if (!/already has files/.test((error as Error).message)) throw error;
        // Never hide a user's files under a mount: this workspace stays as it is, unbounded, and the log says so.
        this.log.warn({ bytes }, 'workspace already has files: it keeps them and gets no size of its own');
      }
    }
    const { migrated } = await prepareWorkspace(this.dirs.workspace, this.ids);
    if (migrated) this.log.warn({ entries: migrated }, 'workspace moved to the sandbox id range (it was made by a relay that ran sandboxes as host root)');
  }

  /** Unmounts the workspace's volume, if it has one (the relay closing, or the sandbox being deleted). */
  async releaseWorkspace(): Promise<void> {
    await this.#workspaceReady.catch(() => undefined);
    if (!this.#volume) return;
    await unmountWorkspaceVolume(this.dirs.workspace);
    this.#volume = false;
  }

  async #start(): Promise<SandboxInstance> {
    await this.#stopping;
    if (this.#abandoned) throw new RelayError('SANDBOX_UNAVAILABLE', `sandbox ${this.id} moved to another relay; send the call again`);
    // With several relays, the lease comes first: two relays never run the same sandbox.
    const hold = await this.ownership?.holdWhileRunning(this.id);
    let instance: SandboxInstance;
    try {
      await this.#workspaceReady;
      // The control dir is the relay's and is rebuilt; /tmp is a fresh tmpfs in the backend.
      rmSync(this.dirs.control, { recursive: true, force: true });
      makePrivateDirectory(dirname(this.dirs.control));
      // Passable inside (it is /run/sandbox-terminal there); on the host it lies in the root-only runtime directory.
      mkdirSync(this.dirs.control, { mode: 0o755 });
      chmodSync(this.dirs.control, 0o755);
      writeFileSync(join(this.dirs.control, CONTROL_FILES.bashrc), BASHRC, { mode: 0o644 });
      instance = await this.backend.start({
        id: this.id,
        workspaceDir: this.dirs.workspace,
        controlDir: this.dirs.control,
        network: this.network,
        resources: {
          processes: this.limits.sandboxProcesses,
          memoryBytes: this.limits.sandboxMemoryBytes,
          cpuCores: this.limits.sandboxCpuCores,
          tmpBytes: this.limits.sandboxTmpBytes,
          ...(this.profile.workspaceBytes !== undefined ? { workspaceBytes: this.profile.workspaceBytes } : {}),
        },
      });
    } catch (error) {
      hold?.release();
      this.log.error({ err: error }, 'sandbox could not start');
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new RelayError('NO_SPACE', `sandbox ${this.id} could not start: the relay's disk is full`);
      // The reason is logged; the client is told what happened without the host's paths in it.
      throw new RelayError('SANDBOX_START_FAILED', `sandbox ${this.id} could not start (the relay's log says why)`);
    }
    this.#instance = instance;
    this.#runningHold = hold;
    this.touch();
    this.log.info({ backend: this.backend.name }, 'sandbox started');
    void instance.exited.then(async () => {
      if (this.#instance !== instance) return;
      // Everything in it died (killed from outside): sessions become recreatable, as after a sleep.
      this.log.warn('sandbox ended unexpectedly');
      for (const session of this.#sessions.values()) session.suspend('sandbox-stopped');
      this.#instance = undefined;
      await this.#saveScreens();
      this.#releaseRunningHold();
    });
    return instance;
  }

  #releaseRunningHold(): void {
    const hold = this.#runningHold;
    this.#runningHold = undefined;
    hold?.release();
  }

  /** Saves each session once more, with its screen settled: the last output is in the record another relay reads. */
  async #saveScreens(): Promise<void> {
    const sessions = this.sessionList();
    await Promise.all(sessions.map((session) => session.settleScreen()));
    await Promise.all(sessions.map((session) => this.persist(session)));
  }

  /** Saves every session's state, stops all processes, and keeps the files. */
  async sleep(cause: SleepCause, detail?: string): Promise<void> {
    const instance = this.#instance;
    if (!instance) return;
    for (const session of this.#sessions.values()) session.suspend(RECREATION_AFTER[cause]);
    this.#instance = undefined;
    this.#stopping = instance.stop().finally(() => (this.#stopping = undefined));
    await this.#stopping;
    if (this.ownership) await this.#saveScreens();
    this.#releaseRunningHold();
    this.observer.sandboxSlept?.();
    this.log.info({ cause, ...(detail ? { detail } : {}) }, 'sandbox asleep');
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
    // Whether stop() resolves before the last process of the sandbox is gone is the backend's business (bubblewrap's
    // used to: the namespace's init died a moment after the outer bwrap); deleting the workspace waits for it.
    const deadline = Date.now() + PROCESSES_GONE_TIMEOUT_MS;
    while (instance?.alive?.() === true && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, PROCESSES_GONE_POLL_MS));
    if (instance?.alive?.() === true) throw new RelayError('INTERNAL', `sandbox ${this.id} still has processes ${PROCESSES_GONE_TIMEOUT_MS} ms after it was stopped; its workspace is kept`);
    this.log.info('sandbox stopped for deletion');
  }

  /** Forgets every session of a sandbox that does not run (handed over to whichever relay uses it next). */
  async discard(): Promise<void> {
    for (const session of this.sessionList()) {
      this.#sessions.delete(session.id);
      await session.dispose(TERMINAL_CLOSE_CODES.SHUTTING_DOWN, 'the sandbox was handed over to another relay');
    }
  }

  /**
   * The lease is lost (another relay may run the sandbox now): stops it at once and writes nothing more. Viewers are
   * closed as by a relay shutting down, so they reconnect, and reach the new owner.
   */
  async abandon(): Promise<void> {
    this.#abandoned = true;
    const instance = this.#instance;
    this.#instance = undefined;
    for (const session of this.sessionList()) {
      this.#sessions.delete(session.id);
      await session.dispose(TERMINAL_CLOSE_CODES.SHUTTING_DOWN, 'the sandbox moved to another relay');
    }
    await instance?.stop();
    this.#releaseRunningHold();
  }

  /** Saves the screen of each active session whose output moved since the last checkpoint (`screenCheckpointMs`). */
  async checkpointScreens(): Promise<void> {
    for (const session of this.sessionList()) {
      if (session.status !== 'active' || this.#checkpointed.get(session) === session.outputPosition) continue;
      this.#checkpointed.set(session, session.outputPosition);
      // The mirror parses lazily (and a resting one not at all): the checkpoint holds the output up to now.
      await session.settleScreen();
      await this.persist(session, { withScreen: true });
    }
  }

  /** The session with this id, if this sandbox holds it in memory. */
  session(id: string): ShellSession | undefined {
    return this.#sessions.get(id);
  }

  /** Every session held in memory, in the order they were added. */
  sessionList(): ShellSession[] {
    return [...this.#sessions.values()];
  }

  /** A new session object bound to this sandbox (not started). */
  addSession(init: SessionInit): ShellSession {
    const session = new ShellSession(this.#sessionHost, init);
    session.onRecreated((recreation) => {
      this.observer.sessionRecreated?.(recreation.reason);
      this.log.info({ session: session.id, cwd: recreation.cwd, reason: recreation.reason }, 'session recreated');
    });
    this.#sessions.set(session.id, session);
    return session;
  }

  /** Forgets a session (deleted, expired, or never started); its record is the caller's business. */
  removeSession(id: string): void {
    this.#sessions.delete(id);
  }

  async persist(session: ShellSession, { withScreen = false } = {}): Promise<void> {
    if (this.#sessions.get(session.id) !== session) return;
    if (this.#abandoned || (this.ownership && !this.ownership.mayWrite(this.id))) return;
    try {
      await this.registry.put({
        id: session.id,
        sandboxId: this.id,
        status: session.status === 'starting' ? 'active' : session.status,
        cwd: session.cwd,
        env: session.env,
        createdAt: session.createdAt.toISOString(),
        ...(session.exitCode !== undefined ? { exitCode: session.exitCode } : {}),
        ...(session.exitSignal !== undefined ? { exitSignal: session.exitSignal } : {}),
        ...(session.recreationReason !== undefined ? { recreationReason: session.recreationReason } : {}),
        ...(this.ownership ? { relay: this.ownership.relayName } : {}),
        // The screen matters once the shell is gone (asleep, exited, relay closing), or as a checkpoint for a relay
        // that takes over after this one died: otherwise skip it while active.
        ...(withScreen || (session.status !== 'active' && session.status !== 'starting') ? { screen: session.screen(), cols: session.cols, rows: session.rows } : {}),
      });
    } catch (error) {
      this.log.error({ session: session.id, err: error }, 'could not save session record');
    }
  }
}
