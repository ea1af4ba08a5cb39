import ReconnectingWebSocket, { type CloseEvent } from 'partysocket/ws';
import type { IDisposable, ITerminalAddon, Terminal } from '@xterm/xterm';
import {
  parseServerControl,
  TERMINAL_CLOSE_CODES,
  TERMINAL_MAX_COLS,
  TERMINAL_MAX_ROWS,
  TERMINAL_MIN_COLS,
  TERMINAL_MIN_ROWS,
  type ClientControlMessage,
  type ErrorPayload,
  type ExitMessage,
  type ReadyMessage,
  type ScreenMessage,
  type ServerControlMessage,
  type SessionRecreatedMessage,
} from '@sandbox-terminal/protocol';
import { acceptsInput, statuses, withInputDropped, type ConnectionStatus } from './connection-status.ts';
import { DisposableStore, Emitter } from './emitter.ts';
import { parseCloudflareControl } from './cloudflare-control.ts';
import { DEFAULT_RECONNECT_POLICY, reconnectDelayMs, type ReconnectPolicy } from './reconnect-policy.ts';
import { OutputFlow } from './output-flow.ts';
import { WakeGate } from './wake-gate.ts';

/** The part of the client SDK's `Sandbox` the connection needs; any object with these members will do. */
export interface TerminalEndpoint {
  terminalUrl(sessionId: string, options?: { cols?: number; rows?: number }): string;
  /** Asked before every connection attempt, so a token in them can be a fresh one each time. */
  terminalProtocols(): string[] | Promise<string[]>;
  /** True when `terminalProtocols` fetches a new token each time: a connection refused as unauthorized is retried. */
  readonly refreshesToken?: boolean;
}

export { DEFAULT_RECONNECT_POLICY, type ReconnectPolicy } from './reconnect-policy.ts';

/** How long a connection must stay up before the backoff starts again from `minDelayMs`. */
const STABLE_CONNECTION_MS = 5_000;
/** Keeps proxies that close quiet sockets from cutting an idle terminal; the relay does not count pings as activity. */
const KEEPALIVE_PING_INTERVAL_MS = 25_000;

/** Close codes after which trying again cannot succeed. */
const FINAL_CLOSE_CODES = new Map<number, { code: string; message: string }>([
  [TERMINAL_CLOSE_CODES.SESSION_NOT_FOUND, { code: 'SESSION_NOT_FOUND', message: 'session not found' }],
  [TERMINAL_CLOSE_CODES.SESSION_DELETED, { code: 'SESSION_NOT_FOUND', message: 'the session was deleted' }],
  [TERMINAL_CLOSE_CODES.BAD_REQUEST, { code: 'BAD_REQUEST', message: 'the relay refused the connection' }],
  [TERMINAL_CLOSE_CODES.LIMIT_EXCEEDED, { code: 'LIMIT_EXCEEDED', message: 'a relay limit was exceeded' }],
]);

/**
 * Refused tokens. Retrying with the same token cannot succeed, so these end the connection too, except that an
 * endpoint that fetches a fresh token for every attempt (`getToken`) retries `UNAUTHORIZED`: the old one had expired.
 */
const AUTH_CLOSE_CODES = new Map<number, { code: string; message: string }>([
  [TERMINAL_CLOSE_CODES.UNAUTHORIZED, { code: 'UNAUTHORIZED', message: 'the relay refused the token (missing, invalid or expired)' }],
  [TERMINAL_CLOSE_CODES.FORBIDDEN, { code: 'FORBIDDEN', message: 'the token does not allow this sandbox or session' }],
]);

/**
 * Keystrokes and pastes go out in frames of at most this many bytes: a large paste in one frame would be over the
 * relay's `terminalMessageBytes` limit (1 MiB by default), and the relay closes the socket on such a frame.
 */
export const INPUT_FRAME_BYTES = 64 * 1024;

/** Error codes that end the session for this viewer; others (a refused control frame) leave it usable. */
const FATAL_ERROR_CODES = new Set(['SESSION_NOT_FOUND', 'INVALID_SANDBOX_ID', 'SANDBOX_START_FAILED', 'LIMIT_EXCEEDED']);

/** What `onScreenRestore` reports. */
export interface ScreenRestore {
  /** The output position the snapshot corresponds to. */
  position: number;
  /** True when it replaced a replay: the bytes since this terminal's cursor had already left the relay's log. */
  truncated: boolean;
}

/** The wire protocol a connection speaks: ours (`sandbox-terminal.v1`), or Cloudflare Sandbox SDK v0.x's terminal. */
export type TerminalProtocol = 'sandbox-terminal' | 'cloudflare';

interface ConnectionOptions {
  /** Drop the user's input instead of sending it. */
  readonly?: boolean;
  reconnect?: Partial<ReconnectPolicy>;
  /** The document whose visibility gates reconnection while the sandbox sleeps; defaults to the global one. */
  document?: Document;
}

export interface RelayConnectionOptions extends ConnectionOptions {
  protocol?: 'sandbox-terminal';
  /** Usually `getSandbox(relay, sandboxId)` from `@sandbox-terminal/client`. */
  endpoint: TerminalEndpoint;
  sessionId: string;
}

/**
 * A Cloudflare Worker route that calls `sandbox.terminal(request)`: the Worker picks the sandbox and session, the
 * socket carries bytes, `resize`, and `ready` / `exit` / `error` frames, and the server replays its buffer on every
 * connect. No cursor, no acks, no pings.
 */
export interface CloudflareConnectionOptions extends ConnectionOptions {
  protocol: 'cloudflare';
  /** The Worker's WebSocket URL (`wss://…`). */
  url: string;
}

/**
 * Connects an xterm.js terminal to one session on a sandbox-terminal relay: raw bytes both ways in binary frames, JSON
 * control in text frames (`sandbox-terminal.v1`). Reconnects with backoff and jitter through partysocket and resumes
 * by cursor (`?cursor=N`: the relay sends exactly the bytes this terminal was not given, so nothing is lost or
 * doubled; when it cannot, the screen is reset and redrawn from its snapshot), reports a `ConnectionStatus`, and never
 * sends input into a socket that cannot take it. With `protocol: 'cloudflare'` it speaks Cloudflare Sandbox SDK v0.x's
 * terminal protocol instead (see `CloudflareConnectionOptions`).
 *
 * Usable without Lit: `terminal.loadAddon(new RelayConnectionAddon({ endpoint: getSandbox(url, id), sessionId }))`.
 */
export class RelayConnectionAddon implements ITerminalAddon {
  readonly #options: RelayConnectionOptions | CloudflareConnectionOptions;
  readonly #policy: ReconnectPolicy;
  readonly #disposables = new DisposableStore();
  readonly #encoder = new TextEncoder();
  readonly #statusEmitter = new Emitter<ConnectionStatus>();
  readonly #readyEmitter = new Emitter<ReadyMessage>();
  readonly #recreatedEmitter = new Emitter<SessionRecreatedMessage>();
  readonly #exitEmitter = new Emitter<ExitMessage>();
  readonly #errorEmitter = new Emitter<ErrorPayload>();
  readonly #outputEmitter = new Emitter<Uint8Array>();
  readonly #screenEmitter = new Emitter<ScreenRestore>();
  #terminal: Terminal | undefined;
  #output: OutputFlow | undefined;
  #socket: ReconnectingWebSocket | undefined;
  #gate: WakeGate | undefined;
  #status: ConnectionStatus = statuses.connecting();
  #sandboxAsleep = false;
  #pendingRecreation: SessionRecreatedMessage | undefined;
  #restartRequested = false;
  /** The relay said our cursor had left its output log; the `screen` that follows says so out loud. */
  #cursorTruncated = false;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #disposed = false;

  /** Fires on every status change. */
  readonly onStatusChange = this.#statusEmitter.event;
  /**
   * The relay attached the session (after each connect, restart or wake). With `resumed: true` the screen was kept and
   * output continues where it left off; otherwise it was reset and a snapshot follows. Not fired with `cloudflare`.
   */
  readonly onReady = this.#readyEmitter.event;
  /** The sandbox had been asleep and the session was started again with its cwd and env. */
  readonly onSessionRecreated = this.#recreatedEmitter.event;
  /** The shell ended. */
  readonly onExit = this.#exitEmitter.event;
  /** The relay reported an error (on the socket or by closing it with an application code). */
  readonly onError = this.#errorEmitter.event;
  /**
   * Every chunk of live output, as it is handed to the terminal (after `onReady`; not the `screen` snapshots). With
   * cursor resume, the concatenation of these chunks across reconnects is exactly what the session printed.
   */
  readonly onOutput = this.#outputEmitter.event;
  /** The terminal was reset and redrawn from the relay's snapshot of the screen (a new viewer, or a lost cursor). */
  readonly onScreenRestore = this.#screenEmitter.event;

  /** Input is dropped instead of sent while true. */
  readonly: boolean;

  constructor(options: RelayConnectionOptions | CloudflareConnectionOptions) {
    this.#options = options;
    this.#policy = { ...DEFAULT_RECONNECT_POLICY, ...options.reconnect };
    this.readonly = options.readonly ?? false;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** The session id; undefined with the `cloudflare` protocol, where the Worker decides the session. */
  get sessionId(): string | undefined {
    return this.#options.protocol === 'cloudflare' ? undefined : this.#options.sessionId;
  }

  get protocol(): TerminalProtocol {
    return this.#options.protocol ?? 'sandbox-terminal';
  }

  activate(terminal: Terminal): void {
    this.#terminal = terminal;
    this.#output = this.#disposables.add(new OutputFlow(terminal, (position) => this.#sendControl({ type: 'ack', position })));
    const gate = (this.#gate = this.#disposables.add(new WakeGate(this.#options.document ?? document)));
    // partysocket asks for the URL and then, in the same tick, for the subprotocols; both come from one attempt, so
    // the token (in the subprotocols) is fetched only after the wake gate and the backoff, not before a long wait.
    let attempt: Promise<{ url: string; protocols: string[] }> | undefined;
    const nextUrl = () => (attempt = this.#nextAttempt()).then((next) => next.url);
    // partysocket awaits a promise from this provider (see its _getNextProtocols); only its types say otherwise.
    const protocols = (() => (attempt ?? this.#nextAttempt()).then((next) => next.protocols)) as unknown as () => string[];
    const socket = new ReconnectingWebSocket(nextUrl, protocols, {
      // The waiting between attempts is ours (`reconnectDelayMs`, in #nextAttempt): partysocket's own backoff would
      // delay even the first attempt after a drop by its minimum.
      minReconnectionDelay: 0,
      maxReconnectionDelay: 0,
      connectionTimeout: this.#policy.connectTimeoutMs,
      minUptime: STABLE_CONNECTION_MS,
      // Keystrokes are never queued for later: a command typed into a dead connection must not run minutes after.
      maxEnqueuedMessages: 0,
      // A Cloudflare-style server ends the socket when the shell exits; coming back would hide the exit state.
      shouldReconnectOnClose: (event) => !this.#finalClose(event.code) && !this.#cloudflareExited(),
    });
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    this.#disposables.listen(socket, 'open', this.#handleOpen);
    this.#disposables.listen(socket, 'message', this.#handleMessage as EventListener);
    this.#disposables.listen(socket, 'close', this.#handleClose as EventListener);
    this.#disposables.add(terminal.onData((data) => this.#sendInput(this.#encoder.encode(data))));
    this.#disposables.add(terminal.onBinary((data) => this.#sendInput(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff))));
    this.#disposables.add(terminal.onResize(({ cols, rows }) => this.#sendControl({ type: 'resize', ...clampSize(cols, rows) })));
    this.#disposables.add({ dispose: () => gate.open() });
  }

  /** Drops the current connection (if any) and connects again now, clearing an error state. */
  reconnect(): void {
    if (!this.#socket || this.#disposed) return;
    this.#gate?.open();
    this.#setStatus(statuses.connecting());
    this.#socket.reconnect();
  }

  /**
   * Call before asking the relay to restart the shell: the `ready` that follows is a fresh shell, whatever mode the
   * relay reports, and is not announced as a session restored from sleep.
   */
  expectRestart(): void {
    this.#restartRequested = true;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#stopKeepalive();
    this.#disposables.dispose();
    this.#socket?.close();
    this.#socket = undefined;
    this.#setStatus(statuses.closed());
    const emitters = [this.#statusEmitter, this.#readyEmitter, this.#recreatedEmitter, this.#exitEmitter, this.#errorEmitter];
    for (const emitter of [...emitters, this.#outputEmitter, this.#screenEmitter]) emitter.dispose();
  }

  async #nextAttempt(): Promise<{ url: string; protocols: string[] }> {
    const socket = this.#socket;
    if (this.#gate && this.#gate.shouldHold(this.#sandboxAsleep)) {
      if (this.#status.state !== 'paused') this.#setStatus(statuses.paused());
      await this.#gate.wait();
      if (!this.#disposed && this.#status.state === 'paused') this.#setStatus(statuses.reconnecting(Math.max(socket?.retryCount ?? 1, 1)));
    }
    const retry = socket?.retryCount ?? 0;
    if (retry > 0) await delay(reconnectDelayMs(this.#policy, retry, Math.random()));
    const options = this.#options;
    // A Cloudflare Worker is offered no subprotocol: that is how a server tells a v0.x client from ours.
    if (options.protocol === 'cloudflare') return { url: options.url, protocols: [] };
    const protocols = await options.endpoint.terminalProtocols();
    const terminal = this.#terminal;
    const size = terminal ? clampSize(terminal.cols, terminal.rows) : {};
    const url = options.endpoint.terminalUrl(options.sessionId, size);
    return { url: withCursor(url, this.#output?.position), protocols };
  }

  /** Why no reconnection follows a close with this code, or undefined when one does. */
  #finalClose(code: number): { code: string; message: string } | undefined {
    const final = FINAL_CLOSE_CODES.get(code);
    if (final) return final;
    const options = this.#options;
    const refreshes = options.protocol !== 'cloudflare' && options.endpoint.refreshesToken === true;
    if (code === TERMINAL_CLOSE_CODES.UNAUTHORIZED && refreshes) return undefined;
    return AUTH_CLOSE_CODES.get(code);
  }

  readonly #handleOpen = (): void => {
    this.#gate?.connected();
    this.#setStatus(statuses.connecting('attaching to the session…'));
    if (this.protocol === 'cloudflare') {
      // Such a server replays its output buffer on every connect: start from a clean screen, count nothing.
      this.#terminal?.reset();
      this.#output?.start(undefined);
      return;
    }
    this.#startKeepalive();
  };

  readonly #handleMessage = (event: MessageEvent): void => {
    if (typeof event.data === 'string') {
      if (this.protocol === 'cloudflare') {
        this.#handleCloudflareControl(event.data);
        return;
      }
      const message = parseServerControl(event.data);
      if (message) this.#handleControl(message);
      return;
    }
    if (event.data instanceof ArrayBuffer && this.#output) {
      const bytes = new Uint8Array(event.data);
      this.#output.output(bytes);
      this.#outputEmitter.fire(bytes);
    }
  };

  readonly #handleClose = (event: CloseEvent): void => {
    this.#stopKeepalive();
    if (this.#disposed) return;
    const final = this.#finalClose(event.code);
    if (final) {
      const message = event.reason || final.message;
      this.#errorEmitter.fire({ code: final.code as ErrorPayload['code'], message });
      this.#setStatus(statuses.error(final.code, message));
      return;
    }
    if (this.#cloudflareExited()) return;
    const holding = this.#gate?.shouldHold(this.#sandboxAsleep) ?? false;
    this.#setStatus(holding ? statuses.paused() : statuses.reconnecting(Math.max(this.#socket?.retryCount ?? 1, 1)));
  };

  #handleControl(message: ServerControlMessage): void {
    switch (message.type) {
      case 'ready':
        this.#handleReady(message);
        break;
      case 'session-recreated':
        if (this.#restartRequested) break;
        this.#pendingRecreation = message;
        this.#recreatedEmitter.fire(message);
        break;
      case 'exit':
        this.#setStatus(statuses.exited(message.exitCode, message.signal));
        this.#exitEmitter.fire(message);
        break;
      case 'sleeping':
        this.#sandboxAsleep = true;
        this.#setStatus(statuses.asleep());
        break;
      case 'error':
        this.#errorEmitter.fire({ code: message.code, message: message.message, ...(message.details ? { details: message.details } : {}) });
        if (FATAL_ERROR_CODES.has(message.code)) this.#setStatus(statuses.error(message.code, message.message));
        break;
      case 'screen':
        this.#handleScreen(message);
        break;
      case 'truncated':
        this.#cursorTruncated = true;
        break;
      case 'pong':
        break;
    }
  }

  /** `ready`, `exit` (`code`, `exitCode` or `exit.code`) and `error`, as Cloudflare Sandbox SDK v0.x sends them. */
  #handleCloudflareControl(text: string): void {
    const message = parseCloudflareControl(text);
    switch (message?.type) {
      case 'ready': {
        this.#setStatus(statuses.connected('attached'));
        // A v0.x `ready` does not say the size: tell the server ours.
        const terminal = this.#terminal;
        if (terminal) this.#sendControl({ type: 'resize', ...clampSize(terminal.cols, terminal.rows) });
        break;
      }
      case 'exit': {
        const exit: ExitMessage = { type: 'exit', exitCode: message.exitCode, signal: message.signal };
        this.#setStatus(statuses.exited(exit.exitCode, exit.signal));
        this.#exitEmitter.fire(exit);
        break;
      }
      case 'error':
        this.#errorEmitter.fire({ code: message.code, message: message.message });
        break;
    }
  }

  #cloudflareExited(): boolean {
    return this.protocol === 'cloudflare' && this.#status.state === 'exited';
  }

  #handleReady(message: ReadyMessage): void {
    const terminal = this.#terminal;
    this.#cursorTruncated = false;
    if (message.resumed === true && typeof message.position === 'number' && this.#output) {
      // The relay continues exactly after the last byte this terminal was given: keep the screen, add what follows.
      this.#output.resume(message.position);
    } else {
      // What follows `ready` redraws the session from scratch (a `screen` snapshot, or from an older relay a replay
      // of recent output); starting from a clean screen keeps a reconnect from showing everything twice.
      terminal?.reset();
      this.#output?.start(typeof message.position === 'number' ? message.position : undefined);
    }
    this.#sandboxAsleep = false;
    const recreated = this.#pendingRecreation ?? (message.mode === 'recreated' ? { cwd: message.cwd } : undefined);
    this.#pendingRecreation = undefined;
    if (this.#restartRequested) {
      this.#restartRequested = false;
      this.#setStatus(statuses.restarted());
    } else {
      this.#setStatus(statuses.connected(message.mode, recreated?.cwd));
    }
    if (terminal && (terminal.cols !== message.cols || terminal.rows !== message.rows)) {
      this.#sendControl({ type: 'resize', ...clampSize(terminal.cols, terminal.rows) });
    }
    this.#readyEmitter.fire(message);
  }

  #handleScreen(message: ScreenMessage): void {
    this.#output?.screen(message.data, message.position);
    const truncated = this.#cursorTruncated;
    this.#cursorTruncated = false;
    if (truncated && this.#status.state === 'connected') this.#setStatus(statuses.screenRestored(this.#status));
    this.#screenEmitter.fire({ position: message.position, truncated });
  }

  #sendInput(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.readonly || this.#disposed) return;
    const socket = this.#socket;
    if (socket && socket.readyState === ReconnectingWebSocket.OPEN && acceptsInput(this.#status)) {
      for (let start = 0; start < bytes.length; start += INPUT_FRAME_BYTES) socket.send(bytes.subarray(start, start + INPUT_FRAME_BYTES));
      if (this.#status.state === 'asleep') this.#setStatus(statuses.waking());
      return;
    }
    // Typing is how a user says "I am here": let a connection held back by the wake gate go now.
    if (this.#status.state === 'paused' && this.#gate) {
      this.#setStatus(statuses.reconnecting(Math.max(socket?.retryCount ?? 1, 1)));
      this.#gate.open();
    }
    this.#setStatus(withInputDropped(this.#status));
  }

  #sendControl(message: ClientControlMessage): void {
    const socket = this.#socket;
    if (socket && socket.readyState === ReconnectingWebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  #startKeepalive(): void {
    this.#stopKeepalive();
    this.#keepalive = setInterval(() => this.#sendControl({ type: 'ping' }), KEEPALIVE_PING_INTERVAL_MS);
  }

  #stopKeepalive(): void {
    if (this.#keepalive !== undefined) clearInterval(this.#keepalive);
    this.#keepalive = undefined;
  }

  #setStatus(status: ConnectionStatus): void {
    this.#status = status;
    this.#statusEmitter.fire(status);
  }
}

/** `?cursor=N` once output positions are known, so the relay replays exactly what this terminal has not been given. */
function withCursor(url: string, position: number | undefined): string {
  if (position === undefined) return url;
  const withParam = new URL(url);
  withParam.searchParams.set('cursor', String(position));
  return withParam.toString();
}

function clampSize(cols: number, rows: number): { cols: number; rows: number } {
  return {
    cols: Math.min(TERMINAL_MAX_COLS, Math.max(TERMINAL_MIN_COLS, cols)),
    rows: Math.min(TERMINAL_MAX_ROWS, Math.max(TERMINAL_MIN_ROWS, rows)),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
