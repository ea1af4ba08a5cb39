import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ID_PATTERN, TERMINAL_CLOSE_CODES, type SessionInfo } from '@sandbox-terminal/protocol';
import type { Logger } from 'pino';
import { RelayError, limitExceeded } from '../errors.ts';
import type { RelayLimits } from '../limits.ts';
import type { SessionRecord, SessionRegistry } from '../registry/session-registry.ts';
import type { SessionInit, ShellSession } from '../session/shell-session.ts';
import type { SandboxBackend } from './backend.ts';
import { SandboxRuntime, type RuntimeOwnership, type SandboxObserver, type SandboxProfile } from './sandbox-runtime.ts';
import { checkSandboxPath } from './workspace-files.ts';
import type { SandboxIds } from './sandbox-ids.ts';
import { VOLUME_IMAGE, unmountWorkspaceVolume } from './workspace-volume.ts';
import { TypingPriority } from '../session/typing-priority.ts';

export interface SandboxPoolOptions {
  backend: SandboxBackend;
  /** Workspaces live under `<dataDir>/sandboxes/<id>/workspace`. */
  dataDir: string;
  /** Per-process scratch space: each sandbox's control files. */
  runtimeDir: string;
  /** The host ids sandboxes run under (the bubblewrap backend); undefined without isolation. */
  ids?: SandboxIds;
  network: boolean;
  idleTimeoutMs: number;
  limits: RelayLimits;
  registry: SessionRegistry;
  log: Logger;
  /** Hears of sleeps and recreations (the relay's metrics). */
  observer?: SandboxObserver;
  /** Limits, network and profile of one sandbox where they differ from the relay-wide ones (guest sandboxes). */
  settingsFor?: (sandboxId: string) => SandboxSettings | undefined;
  /** Several relays sharing Redis: leases before starts, and no writes without one. */
  ownership?: RuntimeOwnership;
}

/** One sandbox's own settings, replacing the relay-wide ones. */
export interface SandboxSettings {
  limits: RelayLimits;
  network: boolean;
  profile: SandboxProfile;
}

/**
 * Every sandbox the relay knows, their sessions, and the idle reaper that puts quiet sandboxes to sleep.
 * The HTTP routes and the terminal endpoint go through here and nowhere else to reach a session.
 */
export class SandboxPool {
  readonly #sandboxes = new Map<string, SandboxRuntime>();
  #idleTimeoutMs: number;
  #reaper: NodeJS.Timeout | undefined;
  #closing = false;
  /** Sandboxes being deleted: every call naming one is refused until it is gone. */
  readonly #deleting = new Set<string>();

  /** Shared by every session of the relay: typing in one paces the output of the others. */
  readonly #typingPriority: TypingPriority;

  constructor(private readonly options: SandboxPoolOptions) {
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#typingPriority = new TypingPriority(options.limits.bulkOutputBytesPerSecond, options.limits.typingWindowMs, options.limits.bulkOutputPacingLoad);
    this.#scheduleReaper();
  }

  get idleTimeoutMs(): number {
    return this.#idleTimeoutMs;
  }

  setIdleTimeout(ms: number): void {
    this.#idleTimeoutMs = ms;
    this.#scheduleReaper();
  }

  /** Running sandboxes hold processes and memory; sleeping ones only files, so only running ones count. */
  #admitStart(starting: SandboxRuntime): void {
    const limit = this.options.limits.sandboxesPerRelay;
    let live = 0;
    for (const runtime of this.#sandboxes.values()) if (runtime !== starting && runtime.live) live++;
    if (live >= limit) throw limitExceeded('sandboxesPerRelay', limit, `this relay already runs ${limit} sandboxes; try again when one sleeps`);
  }

  /**
   * The runtime for a sandbox id (created on first use, not started). `touch: false` is for status reads, which
   * must not keep a sandbox awake (a dashboard polling getSession would otherwise prevent every sleep).
   */
  sandbox(id: string, options: { touch?: boolean } = {}): SandboxRuntime {
    if (this.#closing) throw new RelayError('SHUTTING_DOWN', 'the relay is shutting down');
    if (!ID_PATTERN.test(id)) throw new RelayError('INVALID_SANDBOX_ID', `invalid sandbox id ${JSON.stringify(id).slice(0, 80)}`);
    if (this.#deleting.has(id)) throw new RelayError('SANDBOX_DELETING', `sandbox ${id} is being deleted; try again in a moment`);
    let runtime = this.#sandboxes.get(id);
    if (!runtime) {
      const settings = this.options.settingsFor?.(id);
      runtime = new SandboxRuntime(
        id,
        this.#dirsOf(id),
        this.options.backend,
        settings?.network ?? this.options.network,
        settings?.limits ?? this.options.limits,
        this.#typingPriority,
        this.options.registry,
        this.options.log.child({ sandbox: id }),
        this.options.observer,
        this.options.ids,
        settings?.profile,
        this.options.ownership,
      );
      const started = runtime;
      runtime.admitStart = () => this.#admitStart(started);
      this.#sandboxes.set(id, runtime);
    }
    if (options.touch !== false) runtime.touch();
    return runtime;
  }

  /** Looks a session up in memory, then in the registry (asleep, or from before a relay restart). */
  async findSession(sandboxId: string, sessionId: string, options: { touch?: boolean } = {}): Promise<ShellSession> {
    const runtime = this.sandbox(sandboxId, options);
    const live = runtime.session(sessionId);
    if (live && live.hasShell) return live;
    if (live) {
      // Asleep or exited: the registry decides whether the id is still valid (its record may have expired).
      if (await this.options.registry.get(sandboxId, sessionId)) return live;
      runtime.removeSession(sessionId);
      await live.dispose(TERMINAL_CLOSE_CODES.SESSION_NOT_FOUND, 'session expired');
      throw new RelayError('SESSION_NOT_FOUND', `session ${sessionId} in sandbox ${sandboxId} has expired`);
    }
    if (!ID_PATTERN.test(sessionId)) throw new RelayError('SESSION_NOT_FOUND', `no session ${JSON.stringify(sessionId).slice(0, 80)}`);
    const record = await this.options.registry.get(sandboxId, sessionId);
    if (!record) throw new RelayError('SESSION_NOT_FOUND', `no session ${sessionId} in sandbox ${sandboxId}`);
    // Another request may have loaded it while we waited for the registry.
    const loaded = runtime.session(sessionId);
    if (loaded) return loaded;
    return runtime.addSession(sessionFromRecord(record, this.options.ownership?.relayName));
  }

  async createSession(sandboxId: string, options: { id?: string; cwd?: string; env?: Record<string, string>; cols?: number; rows?: number }): Promise<ShellSession> {
    const runtime = this.sandbox(sandboxId);
    const id = options.id ?? randomUUID();
    if (runtime.session(id) || (await this.options.registry.get(sandboxId, id))) {
      throw new RelayError('SESSION_EXISTS', `session ${id} already exists in sandbox ${sandboxId}`);
    }
    const known = await this.options.registry.list(sandboxId);
    const count = new Set([...runtime.sessionList().map((session) => session.id), ...known.map((record) => record.id)]).size;
    if (count >= runtime.limits.sessionsPerSandbox) {
      throw limitExceeded('sessionsPerSandbox', runtime.limits.sessionsPerSandbox, `sandbox ${sandboxId} already has ${count} sessions`);
    }
    const cwd = options.cwd === undefined ? '/workspace' : checkSandboxPath(options.cwd);
    if (options.cwd !== undefined) await runtime.files.mkdir(cwd, true);
    const session = runtime.addSession({ id, cwd, env: options.env ?? {} });
    if (options.cols && options.rows) session.resize(options.cols, options.rows);
    try {
      await session.wake();
    } catch (error) {
      runtime.removeSession(id);
      throw error;
    }
    return session;
  }

  async listSessions(sandboxId: string): Promise<SessionInfo[]> {
    const runtime = this.sandbox(sandboxId, { touch: false });
    for (const record of await this.options.registry.list(sandboxId)) {
      if (!runtime.session(record.id)) await this.findSession(sandboxId, record.id, { touch: false });
    }
    return runtime.sessionList().map((session) => session.info()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async deleteSession(sandboxId: string, sessionId: string): Promise<void> {
    const session = await this.findSession(sandboxId, sessionId);
    const runtime = this.sandbox(sandboxId);
    runtime.removeSession(sessionId);
    await this.options.registry.delete(sandboxId, sessionId);
    await session.dispose(TERMINAL_CLOSE_CODES.SESSION_DELETED, 'session deleted');
  }

  /**
   * Deletes a sandbox: ends its sessions (their viewers are closed with SESSION_DELETED), forgets their records, stops
   * it and waits until its processes are gone, and only then removes its workspace and control files. Calls naming
   * it meanwhile get SANDBOX_DELETING; the next one after starts an empty sandbox under the same id.
   */
  async deleteSandbox(sandboxId: string): Promise<void> {
    if (!ID_PATTERN.test(sandboxId)) throw new RelayError('INVALID_SANDBOX_ID', `invalid sandbox id ${JSON.stringify(sandboxId).slice(0, 80)}`);
    if (this.#deleting.has(sandboxId)) throw new RelayError('SANDBOX_DELETING', `sandbox ${sandboxId} is already being deleted`);
    this.#deleting.add(sandboxId);
    try {
      const runtime = this.#sandboxes.get(sandboxId);
      if (runtime) {
        const sessions = runtime.sessionList();
        for (const session of sessions) runtime.removeSession(session.id);
        await Promise.all(sessions.map((session) => session.dispose(TERMINAL_CLOSE_CODES.SESSION_DELETED, 'sandbox deleted')));
        await runtime.stopForDeletion();
        await runtime.releaseWorkspace();
        this.#sandboxes.delete(sandboxId);
      }
      for (const record of await this.options.registry.list(sandboxId)) await this.options.registry.delete(sandboxId, record.id);
      // A volume a killed relay left mounted goes too, and its image: a reset starts from nothing.
      await unmountWorkspaceVolume(this.#dirsOf(sandboxId).workspace);
      await rm(join(this.sandboxStateDir(sandboxId), VOLUME_IMAGE), { force: true });
      await rm(this.#dirsOf(sandboxId).workspace, { recursive: true, force: true });
      await rm(join(this.options.runtimeDir, sandboxId), { recursive: true, force: true });
      this.options.log.info({ sandbox: sandboxId }, 'sandbox deleted');
    } finally {
      this.#deleting.delete(sandboxId);
    }
  }

  /** True while `deleteSandbox` runs for the id. */
  isDeleting(sandboxId: string): boolean {
    return this.#deleting.has(sandboxId);
  }

  /** Where a sandbox's directories are on the host; the workspace's parent holds the relay's own files about it. */
  #dirsOf(id: string) {
    const { dataDir, runtimeDir } = this.options;
    return { workspace: join(dataDir, 'sandboxes', id, 'workspace'), control: join(runtimeDir, id, 'control') };
  }

  /** The relay's own directory about a sandbox (beside its workspace, out of the sandbox's reach). */
  sandboxStateDir(id: string): string {
    return join(this.options.dataDir, 'sandboxes', id);
  }

  /** Puts a sandbox to sleep now (tests and the demo's "sleep now" use it). */
  async sleepSandbox(sandboxId: string, detail?: string): Promise<void> {
    await this.#sandboxes.get(sandboxId)?.sleep('requested', detail);
  }

  #scheduleReaper(): void {
    clearInterval(this.#reaper);
    const everyMs = Math.max(100, Math.min(5_000, Math.floor(this.#idleTimeoutMs / 4)));
    this.#reaper = setInterval(() => void this.#reap(), everyMs);
    this.#reaper.unref();
  }

  async #reap(): Promise<void> {
    const now = Date.now();
    for (const runtime of this.#sandboxes.values()) {
      if (!runtime.running || runtime.busy) continue;
      const idleTimeoutMs = Math.min(this.#idleTimeoutMs, runtime.profile.idleTimeoutMs ?? Infinity);
      if (now - runtime.lastActivityAt >= idleTimeoutMs) {
        await runtime.sleep('idle', `idle for ${idleTimeoutMs} ms`).catch((error) => this.options.log.error({ err: error, sandbox: runtime.id }, 'sleep failed'));
      }
    }
  }

  /** Saves every session (as asleep, so they are recreated after a restart) and stops every sandbox. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#reaper);
    for (const runtime of this.#sandboxes.values()) {
      await runtime.sleep('relay-closing');
      const sessions = runtime.sessionList();
      for (const session of sessions) session.closeViewers(TERMINAL_CLOSE_CODES.SHUTTING_DOWN, 'relay shutting down');
      // The saved screen must hold the last output: the mirror parses lazily.
      await Promise.all(sessions.map((session) => session.settleScreen()));
      await Promise.all(sessions.map((session) => runtime.persist(session)));
      await runtime.releaseWorkspace().catch((error: unknown) => this.options.log.error({ err: error, sandbox: runtime.id }, 'could not unmount the workspace volume'));
    }
    this.#typingPriority.dispose();
  }

  /**
   * Several relays: nothing uses the sandbox here any more (it does not run, no call or terminal is on it). Waits until
   * its records are in the registry, then forgets it: a later use here reads them again, as another relay may run
   * the sandbox in between.
   */
  async forget(sandboxId: string): Promise<void> {
    const runtime = this.#sandboxes.get(sandboxId);
    if (runtime && !runtime.live) {
      this.#sandboxes.delete(sandboxId);
      await runtime.discard();
      // A workspace volume is mounted by one relay at a time: the next owner mounts it again.
      await runtime.releaseWorkspace();
    }
    await this.options.registry.flush();
  }

  /** Several relays: the sandbox's lease is lost, so another relay may run it now. Stops it here and writes nothing. */
  async abandon(sandboxId: string): Promise<void> {
    const runtime = this.#sandboxes.get(sandboxId);
    if (!runtime) return;
    this.#sandboxes.delete(sandboxId);
    await runtime.abandon();
    await runtime.releaseWorkspace().catch((error: unknown) => this.options.log.error({ err: error, sandbox: sandboxId }, 'could not unmount the workspace volume'));
  }

  /** Saves the screens of active sessions whose output moved (see `screenCheckpointMs`). */
  async checkpointScreens(): Promise<void> {
    for (const runtime of this.#sandboxes.values()) if (runtime.running) await runtime.checkpointScreens();
  }

  /** All live runtimes (for health and tests). */
  runtimes(): SandboxRuntime[] {
    return [...this.#sandboxes.values()];
  }
}

/**
 * A session as its record left it. One still `active` lost the relay that ran it (a crash, a kill -9): its next start
 * is a recreation because the relay restarted; one saved asleep says why it slept. With several relays, a relay that
 * brings back a session another relay ran when it stopped or died says so: `relay-failed-over`.
 */
function sessionFromRecord(record: SessionRecord, relayName: string | undefined): SessionInit {
  const lostItsRelay = record.status === 'active' || record.recreationReason === 'relay-restarted';
  const elsewhere = relayName !== undefined && record.relay !== undefined && record.relay !== relayName;
  const reason = lostItsRelay ? (elsewhere ? 'relay-failed-over' : 'relay-restarted') : (record.recreationReason ?? 'slept');
  const rest: SessionInit['rest'] =
    record.status === 'exited'
      ? { status: 'exited', exitCode: record.exitCode ?? -1, ...(record.exitSignal !== undefined ? { signal: record.exitSignal } : {}) }
      : { status: 'sleeping', reason };
  return {
    id: record.id,
    cwd: record.cwd,
    env: record.env,
    createdAt: new Date(record.createdAt),
    rest,
    ...(record.screen ? { screen: record.screen, cols: record.cols ?? 80, rows: record.rows ?? 24 } : {}),
  };
}
