import { GuestAccess, SandboxError, getSandbox, type ExecResult, type Sandbox } from '@sandbox-terminal/client';
import { textHash } from './block-spec.ts';
import type { RunnableBlocksOptions, SetupStep } from './config.ts';
import type { SiteMemory } from './storage.ts';

/** Where the page's blocks run: what the docked terminal attaches to. */
export interface SessionTarget {
  relay: string;
  sandbox: string;
  sessionId: string;
  getToken: (() => string | Promise<string>) | undefined;
}

/** Where the relay keeps this library's notes inside a sandbox (which setups ran): hidden, under /workspace. */
export const SETUP_MARKER_DIR = '/workspace/.sandbox-docs';

export interface SetupProgress {
  state: 'running' | 'done' | 'failed';
  /** Steps finished so far, of `total`. */
  done: number;
  total: number;
  message: string;
}

/**
 * The one session every runnable block of a site shares: found again from what the browser remembers (so navigation
 * and reloads keep the shell, its cwd and env), else created; in a guest sandbox of the reader's own or the site's
 * sandbox. Whatever had to change on the way (a session that ended, a guest sandbox that expired) is said through
 * `onNotice`, never done silently.
 */
export class DocsSession {
  #guest: GuestAccess | undefined;
  #client: Sandbox | undefined;
  #target: SessionTarget | undefined;
  #resolving: Promise<SessionTarget> | undefined;
  #resumed = false;
  readonly #setupsDone = new Set<string>();
  readonly #targetListeners = new Set<(target: SessionTarget) => void>();

  constructor(
    private readonly options: RunnableBlocksOptions,
    private readonly memory: SiteMemory,
    private readonly onNotice: (message: string) => void,
  ) {}

  get target(): SessionTarget | undefined {
    return this.#target;
  }

  /** True when `ready()` found a remembered session rather than making one. */
  get resumed(): boolean {
    return this.#resumed;
  }

  /** The session, once: the remembered one if the relay still has it, else a new one. */
  ready(): Promise<SessionTarget> {
    this.#resolving ??= this.#resolve().catch((error: unknown) => {
      this.#resolving = undefined;
      throw error;
    });
    return this.#resolving;
  }

  /** Calls `listener` whenever the target changes (a new session, a reset, a new guest sandbox). */
  onTargetChange(listener: (target: SessionTarget) => void): () => void {
    this.#targetListeners.add(listener);
    return () => this.#targetListeners.delete(listener);
  }

  /** Runs a block in the session (it shows in the terminal as it runs). */
  exec(command: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecResult> {
    return this.#recovering(async (client, target) =>
      client.exec(command, { session: target.sessionId, ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}), ...(options.signal ? { signal: options.signal } : {}) }),
    );
  }

  writeFile(path: string, content: string): Promise<void> {
    return this.#recovering((client) => client.writeFile(path, content));
  }

  /** A step check: a fresh shell in the session's directory, so it neither shows in the terminal nor changes its state. */
  check(command: string): Promise<ExecResult> {
    return this.#recovering(async (client, target) => {
      const { cwd } = await client.getSession(target.sessionId);
      return client.exec(command, { cwd });
    });
  }

  /**
   * Runs each setup once per sandbox, in order, before the first block: files written, commands run in the session
   * (visible in the terminal). A setup whose marker is in the sandbox already ran (on another page, in another tab).
   * Resolves to the failed command's result, if one failed: the blocks should not run then.
   */
  async runSetup(steps: SetupStep[], onProgress: (progress: SetupProgress) => void): Promise<ExecResult | undefined> {
    if (steps.length === 0) return undefined;
    const marker = `${SETUP_MARKER_DIR}/setup-${textHash(JSON.stringify(steps))}`;
    const target = await this.ready();
    const key = `${target.sandbox} ${marker}`;
    if (this.#setupsDone.has(key)) return undefined;
    if (await this.#recovering((client) => client.exists(marker))) {
      this.#setupsDone.add(key);
      return undefined;
    }
    for (const [index, step] of steps.entries()) {
      const message = step.kind === 'file' ? `writing ${step.path}` : `running ${firstLine(step.command)}`;
      onProgress({ state: 'running', done: index, total: steps.length, message });
      if (step.kind === 'file') {
        await this.writeFile(step.path, step.content);
        continue;
      }
      const result = await this.exec(step.command);
      if (result.exitCode !== 0) {
        onProgress({ state: 'failed', done: index, total: steps.length, message: `setup failed: ${firstLine(step.command)} exited with ${result.exitCode}` });
        return result;
      }
    }
    await this.writeFile(marker, `${new Date().toISOString()}\n`);
    this.#setupsDone.add(key);
    onProgress({ state: 'done', done: steps.length, total: steps.length, message: 'setup done' });
    return undefined;
  }

  /**
   * A fresh sandbox: the relay deletes this one (sessions, processes, workspace), starts it again from the template
   * and the page gets a new session. Setups run again before the next block.
   */
  async reset(): Promise<SessionTarget> {
    const target = await this.ready();
    const client = this.#client!;
    await client.delete();
    this.#setupsDone.clear();
    const template = this.#guest?.template ?? this.options.template;
    if (template) await client.create({ template });
    return this.#newSession(client, target.relay);
  }

  async #resolve(): Promise<SessionTarget> {
    const client = await this.#sandboxClient();
    const remembered = this.memory.readSession();
    if (remembered && remembered.relay === client.relayUrl && remembered.sandbox === client.id) {
      try {
        const info = await client.getSession(remembered.sessionId);
        if (info.status !== 'exited') {
          this.#resumed = true;
          return this.#setTarget({ relay: client.relayUrl, sandbox: client.id, sessionId: remembered.sessionId, getToken: this.#getToken() });
        }
        this.onNotice('the shell of your last visit had exited: started a new one');
      } catch (error) {
        if (!(error instanceof SandboxError) || error.code !== 'SESSION_NOT_FOUND') throw error;
        this.onNotice('the session of your last visit no longer exists: started a new one');
      }
    }
    return this.#newSession(client, client.relayUrl, true);
  }

  async #sandboxClient(): Promise<Sandbox> {
    if (this.#client) return this.#client;
    const { relay, access, sandbox } = this.options;
    if ((access ?? (sandbox ? 'sandbox' : 'guest')) === 'sandbox') {
      if (!sandbox) throw new Error('sandbox-terminal docs: access "sandbox" needs a sandbox id');
      this.#client = getSandbox(relay, sandbox, this.options.getToken ? { getToken: this.options.getToken } : {});
      return this.#client;
    }
    const { access: guest, resumed } = await GuestAccess.open(relay, { store: this.memory.guestStore(), ...(this.options.template ? { template: this.options.template } : {}) });
    if (!resumed && this.memory.readSession()) this.onNotice('your earlier sandbox has ended: this is a fresh one');
    this.#guest = guest;
    this.#client = guest.client();
    return this.#client;
  }

  #getToken(): SessionTarget['getToken'] {
    return this.#guest?.getToken ?? this.options.getToken;
  }

  async #newSession(client: Sandbox, relay: string, firstInSandbox = false): Promise<SessionTarget> {
    if (firstInSandbox && this.options.template && !this.#guest) {
      try {
        await client.create({ template: this.options.template });
      } catch (error) {
        if (!(error instanceof SandboxError) || error.code !== 'SANDBOX_EXISTS') throw error;
        this.onNotice(`sandbox ${client.id} already has files: template ${this.options.template} was not copied in`);
      }
    }
    const sessionId = await client.createSession();
    this.memory.writeSession({ relay, sandbox: client.id, sessionId });
    return this.#setTarget({ relay, sandbox: client.id, sessionId, getToken: this.#getToken() });
  }

  #setTarget(target: SessionTarget): SessionTarget {
    this.#target = target;
    this.#resolving = Promise.resolve(target);
    for (const listener of this.#targetListeners) listener(target);
    return target;
  }

  /**
   * Runs a call; if the session is gone (deleted, expired) or the guest sandbox ended, makes a new one, says so, and
   * tries once more: the call was refused before anything ran, so nothing runs twice.
   */
  async #recovering<T>(call: (client: Sandbox, target: SessionTarget) => Promise<T>): Promise<T> {
    const target = await this.ready();
    try {
      return await call(this.#client!, target);
    } catch (error) {
      if (!(error instanceof SandboxError)) throw error;
      if (error.code === 'SESSION_NOT_FOUND') {
        this.onNotice('the session had ended: started a new one (files in /workspace are still there)');
        const replaced = await this.#newSession(this.#client!, target.relay);
        return call(this.#client!, replaced);
      }
      if (error.code === 'GUEST_EXPIRED') {
        this.onNotice('your guest sandbox reached the end of its lifetime: this is a fresh one');
        this.#guest?.forget();
        this.#guest = undefined;
        this.#client = undefined;
        this.#setupsDone.clear();
        const client = await this.#sandboxClient();
        const replaced = await this.#newSession(client, client.relayUrl, true);
        return call(client, replaced);
      }
      throw error;
    }
  }
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}
