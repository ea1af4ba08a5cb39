import { html, nothing, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { Terminal } from '@xterm/xterm';
import { SandboxError, type Sandbox } from '@sandbox-terminal/client';
import type { ReadyMessage } from '@sandbox-terminal/protocol';
import { connectionErrorFrom, statuses } from '../connection-status.ts';
import { emit } from '../events.ts';
import type { PersistedRecord } from '../persisted-record.ts';
import { RelayConnectionAddon, type ConnectionOptionsFor, type ReconnectPolicy } from '../relay-connection-addon.ts';
import type { TokenProvider } from '../relay-auth.ts';
import { isSessionLimit, sessionLimitOffer, type SessionLimitOffer } from '../session-limit.ts';
import type { TypeaheadBuffer } from '../typeahead.ts';
import type { TerminalProtocol } from '../dialects/dialect.ts';
import type { ConnectionStatusController } from './connection-status-controller.ts';
import { SessionResolutionController, type SessionOrigin } from './session-resolution-controller.ts';

/** What a terminal element says about where it connects; read anew at every connection. */
export interface SessionConnectionHost extends ReactiveControllerHost, HTMLElement {
  readonly protocol: TerminalProtocol;
  readonly url: string | undefined;
  readonly relay: string;
  readonly sandbox: string;
  readonly session: string | undefined;
  readonly persistKey: string | undefined;
  readonly token: string | undefined;
  readonly getToken: TokenProvider | undefined;
  readonly readonly: boolean;
  readonly reconnectPolicy: Partial<ReconnectPolicy> | undefined;
}

export interface SessionConnectionOptions {
  status: ConnectionStatusController;
  terminal: () => Terminal | undefined;
  typeahead: () => TypeaheadBuffer;
  /** The relay attached the session (each connect, restart, wake). */
  onReady: (ready: ReadyMessage) => void;
  /** Something to tell the user beside the status, until they type (a remembered session that was gone). */
  onNotice: (notice: string) => void;
}

/**
 * Connects an element's terminal to its session: picks the dialect the `protocol` asks for, finds the session
 * (`SessionResolutionController`), attaches a `RelayConnectionAddon`, starts over when a remembered session turns out
 * to be gone, and, when the sandbox is full, finds a way forward (`SessionLimitOffer`) instead of a dead end.
 */
export class SessionConnectionController implements ReactiveController {
  readonly #host: SessionConnectionHost;
  readonly #options: SessionConnectionOptions;
  readonly #resolution: SessionResolutionController;
  #connection: RelayConnectionAddon | undefined;
  #sandbox: Sandbox | undefined;
  #sessionId: string | undefined;
  #limitOffer: SessionLimitOffer | undefined;
  /** The configuration the current connection was made for; empty when there is none. */
  #key = '';

  constructor(host: SessionConnectionHost, options: SessionConnectionOptions) {
    this.#host = host;
    this.#options = options;
    this.#resolution = new SessionResolutionController(host);
    host.addController(this);
  }

  get connection(): RelayConnectionAddon | undefined {
    return this.#connection;
  }

  /** The client SDK's sandbox, once this project's relay is used (`exec`, `restart`). */
  get sandbox(): Sandbox | undefined {
    return this.#sandbox;
  }

  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** Set while the sandbox is full: what the user can do about it. */
  get limitOffer(): SessionLimitOffer | undefined {
    return this.#limitOffer;
  }

  /** True when the element's configuration is no longer the one the connection was made for. */
  get outdated(): boolean {
    return this.#key !== '' && this.#configurationKey() !== this.#key;
  }

  /** Connects again for the element's configuration now; a session it showed is kept only if it still asks for it. */
  reconfigure(): void {
    if (this.#host.session !== this.#sessionId) this.#sessionId = undefined;
    void this.connect();
  }

  /** Finds the session to show (given, known, remembered or new) and attaches to it; `replacing` names a gone one. */
  async connect(replacing?: string): Promise<void> {
    const host = this.#host;
    const status = this.#options.status;
    this.close();
    this.#key = this.#configurationKey();
    this.#limitOffer = undefined;
    if (host.protocol !== 'sandbox-terminal') {
      // A Cloudflare Worker decides the session: no client SDK, nothing to look up or remember.
      this.#resolution.abandon();
      this.#sandbox = undefined;
      this.#sessionId = undefined;
      if (host.url) this.#attach({ protocol: host.protocol, url: host.url }, undefined);
      else status.set(statuses.idle('set the url attribute to connect'));
      return;
    }
    if (!host.relay || !host.sandbox) {
      status.set(statuses.idle('set the relay and sandbox attributes to connect'));
      return;
    }
    const terminal = this.#options.terminal();
    const request = {
      relay: host.relay,
      sandbox: host.sandbox,
      credentials: host,
      session: host.session,
      known: replacing ? undefined : this.#sessionId,
      persistKey: host.persistKey,
      replacing,
      size: terminal ? { cols: terminal.cols, rows: terminal.rows } : undefined,
      onCreate: () => status.set(statuses.connecting('creating a session…')),
    };
    // A given or already known session needs no relay call: attached at once, within this update.
    const known = this.#resolution.known(request);
    if (!known) status.set(statuses.connecting());
    const result = known ? ({ kind: 'resolved', session: known } as const) : await this.#resolution.resolve(request);
    if (result.kind === 'stale' || !this.#options.terminal()) return;
    if (result.kind === 'failed') {
      this.#sandbox = result.sandbox;
      status.set(statuses.error(connectionErrorFrom(result.error)));
      if (isSessionLimit(result.error)) void this.#offerWayOut(result.sandbox);
      return;
    }
    const { sandbox, sessionId, origin } = result.session;
    this.#sandbox = sandbox;
    this.#sessionId = sessionId;
    // Set from now on to the session it already shows, the `session` attribute is no change (see #configurationKey).
    this.#key = this.#configurationKey();
    if (origin === 'created') emit(host, 'session-created', { sessionId, sandbox: host.sandbox, ...(replacing ? { replaces: replacing } : {}) });
    this.#attach({ endpoint: sandbox, sessionId }, origin);
  }

  /** Drops the connection (the session goes on without this viewer). */
  close(): void {
    this.#options.status.unfollow();
    this.#connection?.dispose();
    this.#connection = undefined;
    this.#key = '';
  }

  /** While the sandbox is full: what happened and the ways forward, over the (empty) terminal. */
  renderLimitNotice(): TemplateResult | typeof nothing {
    const offer = this.#limitOffer;
    const status = this.#options.status.status;
    if (!offer || status.state !== 'error') return nothing;
    const idle = offer.idle.length;
    return html`<div part="limit-notice" class="limit-notice" role="alert">
      <p>${status.message}.</p>
      <div class="actions">
        ${offer.reusable
          ? html`<button part="reuse-button" @click=${() => this.useSession(offer.reusable!)}>Open an existing session</button>`
          : nothing}
        ${idle
          ? html`<button part="close-idle-button" @click=${() => this.closeIdleSessions(offer.idle)}>
              Close ${idle} idle session${idle === 1 ? '' : 's'} and start a new one
            </button>`
          : nothing}
      </div>
    </div>`;
  }

  /** Shows `sessionId` instead (the user chose an existing session of a full sandbox), and remembers it. */
  useSession(sessionId: string): void {
    this.#remembered()?.write({ sessionId });
    this.#sessionId = sessionId;
    void this.connect();
  }

  /** Closes sessions of a full sandbox that nobody uses, then starts this element's own. */
  async closeIdleSessions(sessionIds: readonly string[]): Promise<void> {
    const sandbox = this.#sandbox;
    if (!sandbox) return;
    const status = this.#options.status;
    this.#limitOffer = undefined;
    status.set(statuses.connecting(`closing ${sessionIds.length} idle session${sessionIds.length === 1 ? '' : 's'}…`));
    const results = await Promise.allSettled(sessionIds.map((id) => sandbox.deleteSession(id)));
    const failed = results.find(
      (result): result is PromiseRejectedResult =>
        result.status === 'rejected' && !(result.reason instanceof SandboxError && result.reason.code === 'SESSION_NOT_FOUND'),
    );
    if (failed) status.set(statuses.error(connectionErrorFrom(failed.reason)));
    else void this.connect();
  }

  hostDisconnected(): void {
    this.#resolution.abandon();
    this.close();
  }

  #attach(options: ConnectionOptionsFor, origin: SessionOrigin | undefined): void {
    const terminal = this.#options.terminal();
    if (!terminal) return;
    const host = this.#host;
    const connection = new RelayConnectionAddon({
      ...options,
      readonly: host.readonly,
      typeahead: this.#options.typeahead(),
      ...(host.reconnectPolicy ? { reconnect: host.reconnectPolicy } : {}),
    });
    this.#connection = connection;
    this.#options.status.follow(connection);
    const sessionId = connection.sessionId ?? '';
    connection.onReady((ready) => {
      this.#options.onReady(ready);
      this.#remembered()?.write({ sessionId });
    });
    connection.onSessionRecreated(({ cwd, restoredEnv, reason }) => emit(host, 'session-recreated', { sessionId, cwd, restoredEnv, reason }));
    connection.onExit(({ exitCode, signal }) => emit(host, 'exit', { sessionId, exitCode, signal }));
    connection.onError(({ code }) => {
      // A remembered id can expire on the relay; say so and start over rather than leave a dead terminal.
      if (code !== 'SESSION_NOT_FOUND' || origin !== 'remembered' || this.#connection !== connection) return;
      this.#sessionId = undefined;
      this.#options.onNotice(`the remembered session ${shortId(sessionId)} no longer exists: started a new one`);
      void this.connect(sessionId);
    });
    terminal.loadAddon(connection);
  }

  /** The sandbox has as many sessions as it may: find what can be offered instead of a dead end. */
  async #offerWayOut(sandbox: Sandbox): Promise<void> {
    const key = this.#key;
    try {
      const offer = sessionLimitOffer(await sandbox.listSessions());
      if (key !== this.#key || this.#options.status.status.state !== 'error') return;
      this.#limitOffer = offer;
      this.#host.requestUpdate();
    } catch {
      // Nothing to offer beyond the message and "Reconnect".
    }
  }

  #remembered(): PersistedRecord<{ sessionId: string }> | undefined {
    return this.#resolution.remembered(this.#host);
  }

  #configurationKey(): string {
    const host = this.#host;
    const session = host.session ?? this.#sessionId ?? null;
    return JSON.stringify([host.protocol, host.url ?? null, host.relay, host.sandbox, session, host.token ?? null, Boolean(host.getToken), host.persistKey ?? null]);
  }
}

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}
