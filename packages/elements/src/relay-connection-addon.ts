import ReconnectingWebSocket, { type CloseEvent } from 'partysocket/ws';
import type { ITerminalAddon, Terminal } from '@xterm/xterm';
import {
  TERMINAL_MAX_COLS,
  TERMINAL_MAX_ROWS,
  TERMINAL_MIN_COLS,
  TERMINAL_MIN_ROWS,
  type ErrorPayload,
  type ExitMessage,
  type ReadyMessage,
  type SessionRecreatedMessage,
} from '@sandbox-terminal/protocol';
import { acceptsInput, statuses, withInputDropped, type ConnectionStatus } from './connection-status.ts';
import { CloudflareSdk0Dialect, CloudflareSdk1Dialect } from './dialects/cloudflare-dialects.ts';
import type { Attachment, CloseOutcome, DialectHost, ScreenRestore, TerminalDialect, TerminalProtocol } from './dialects/dialect.ts';
import { RelayDialect, type TerminalSocketTarget } from './dialects/relay-dialect.ts';
import { DisposableStore, Emitter } from './emitter.ts';
import { DEFAULT_RECONNECT_POLICY, reconnectDelayMs, type ReconnectPolicy } from './reconnect-policy.ts';
import { OutputFlow } from './output-flow.ts';
import { TypeaheadBuffer } from './typeahead.ts';
import { WakeGate } from './wake-gate.ts';

export { DEFAULT_RECONNECT_POLICY, type ReconnectPolicy } from './reconnect-policy.ts';
export type { ScreenRestore, TerminalDialect, TerminalProtocol } from './dialects/dialect.ts';
export type { TerminalSocketTarget } from './dialects/relay-dialect.ts';

/** How long a connection must stay up before the backoff starts again from `minDelayMs`. */
const STABLE_CONNECTION_MS = 5_000;
/** Keeps proxies that close quiet sockets from cutting an idle terminal; the relay does not count pings as activity. */
const KEEPALIVE_PING_INTERVAL_MS = 25_000;
/**
 * After this many attempts in a row that never opened a socket, the status stops saying "reconnecting" and says the
 * relay cannot be reached (and keeps trying with backoff): a blip is over by then, an outage is not.
 */
export const UNREACHABLE_AFTER_ATTEMPTS = 3;

/**
 * Keystrokes and pastes go out in frames of at most this many bytes: a large paste in one frame would be over the
 * relay's `terminalMessageBytes` limit (1 MiB by default), and the relay closes the socket on such a frame.
 */
export const INPUT_FRAME_BYTES = 64 * 1024;

interface ConnectionOptions {
  /** Drop the user's input instead of sending it. */
  readonly?: boolean;
  reconnect?: Partial<ReconnectPolicy>;
  /** The document whose visibility gates reconnection while the sandbox sleeps; defaults to the global one. */
  document?: Document;
  /** Keys typed before this connection existed, sent once it first attaches (see `TypeaheadBuffer`). */
  typeahead?: TypeaheadBuffer;
}

export interface RelayConnectionOptions extends ConnectionOptions {
  protocol?: 'sandbox-terminal';
  /** Usually `getSandbox(relay, sandboxId)` from `@sandbox-terminal/client`. */
  endpoint: TerminalSocketTarget;
  sessionId: string;
}

/** A Cloudflare Worker's terminal route (see `CloudflareSdk0Dialect` and `CloudflareSdk1Dialect`). */
export interface CloudflareConnectionOptions extends ConnectionOptions {
  /** `cloudflare`: Sandbox SDK 0.x `sandbox.terminal(request)`; `cloudflare-1`: the SDK 1.0 browser-terminal recipe. */
  protocol: 'cloudflare' | 'cloudflare-1';
  /** The Worker's WebSocket URL (`wss://…`). */
  url: string;
}

/** Any other server: bring its dialect. */
export interface DialectConnectionOptions extends ConnectionOptions {
  dialect: TerminalDialect;
}

export type ConnectionOptionsFor = RelayConnectionOptions | CloudflareConnectionOptions | DialectConnectionOptions;

/** The dialect the options ask for. */
export function dialectFor(options: ConnectionOptionsFor): TerminalDialect {
  if ('dialect' in options) return options.dialect;
  if ('endpoint' in options) return new RelayDialect(options.endpoint, options.sessionId);
  return options.protocol === 'cloudflare-1' ? new CloudflareSdk1Dialect(options.url) : new CloudflareSdk0Dialect(options.url);
}

/**
 * Connects an xterm.js terminal to one session: raw bytes both ways in binary frames, JSON control in text frames.
 * Reconnects with backoff and jitter through partysocket, reports a `ConnectionStatus` (saying when the relay cannot
 * be reached at all), holds keys typed before the first attach for a few seconds, and never sends input into a socket
 * that cannot take it. What differs between servers (URL, subprotocols, control frames, close codes) is its
 * dialect's business: this project's relay (`sandbox-terminal.v1`, with cursor resume: the relay sends exactly the
 * bytes this terminal was not given), or a Cloudflare Worker (`protocol: 'cloudflare'` or `'cloudflare-1'`).
 *
 * Usable without Lit: `terminal.loadAddon(new RelayConnectionAddon({ endpoint: getSandbox(url, id), sessionId }))`.
 */
export class RelayConnectionAddon implements ITerminalAddon {
  readonly #dialect: TerminalDialect;
  readonly #policy: ReconnectPolicy;
  readonly #document: Document | undefined;
  readonly #typeahead: TypeaheadBuffer;
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
  #host: DialectHost | undefined;
  /** Decided when partysocket asks whether to reconnect, read by the close listener that runs just after. */
  #closeOutcome: CloseOutcome = { kind: 'retry' };
  #openedThisAttempt = false;
  /** Attempts in a row that never opened a socket. */
  #failedAttempts = 0;
  #everAttached = false;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #disposed = false;

  /** Fires on every status change. */
  readonly onStatusChange = this.#statusEmitter.event;
  /**
   * The relay attached the session (after each connect, restart or wake). With `resumed: true` the screen was kept and
   * output continues where it left off; otherwise it was reset and a snapshot follows. Only this project's relay
   * sends it.
   */
  readonly onReady = this.#readyEmitter.event;
  /** The session's shell was started again under the same id with its cwd and env (`reason` says why). */
  readonly onSessionRecreated = this.#recreatedEmitter.event;
  /** The shell ended. */
  readonly onExit = this.#exitEmitter.event;
  /** The server reported an error (on the socket or by closing it with an application code). */
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

  constructor(options: ConnectionOptionsFor) {
    this.#dialect = dialectFor(options);
    this.#policy = { ...DEFAULT_RECONNECT_POLICY, ...options.reconnect };
    this.#document = options.document;
    this.#typeahead = options.typeahead ?? new TypeaheadBuffer();
    this.readonly = options.readonly ?? false;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** The session id; undefined where the server decides the session (a Cloudflare Worker). */
  get sessionId(): string | undefined {
    return this.#dialect.sessionId;
  }

  get protocol(): TerminalProtocol {
    return this.#dialect.protocol;
  }

  activate(terminal: Terminal): void {
    this.#terminal = terminal;
    const output = (this.#output = this.#disposables.add(new OutputFlow(terminal, (position) => this.#sendText(JSON.stringify({ type: 'ack', position })))));
    this.#host = this.#hostFor(terminal, output);
    const gate = (this.#gate = this.#disposables.add(new WakeGate(this.#document ?? document)));
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
      // partysocket asks this first and fires the close event right after: the listener reads the same outcome.
      shouldReconnectOnClose: (event) => {
        this.#closeOutcome = this.#host ? this.#dialect.closed(event.code, event.reason, this.#host) : { kind: 'retry' };
        return this.#closeOutcome.kind === 'retry';
      },
    });
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    this.#disposables.listen(socket, 'open', this.#handleOpen);
    this.#disposables.listen(socket, 'message', this.#handleMessage as EventListener);
    this.#disposables.listen(socket, 'close', this.#handleClose as EventListener);
    this.#disposables.add(terminal.onData((data) => this.#sendInput(this.#encoder.encode(data))));
    this.#disposables.add(terminal.onBinary((data) => this.#sendInput(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff))));
    this.#disposables.add(terminal.onResize(({ cols, rows }) => this.#sendText(this.#dialect.resizeFrame(clampSize(cols, rows)))));
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
   * Call before asking the relay to restart the shell: the attach that follows is a fresh shell, whatever mode the
   * relay reports, and is not announced as a session restored from sleep.
   */
  expectRestart(): void {
    this.#dialect.expectRestart();
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

  /** What the dialect may do to this connection. */
  #hostFor(terminal: Terminal, output: OutputFlow): DialectHost {
    const connection = this;
    return {
      output,
      get status() {
        return connection.#status;
      },
      setStatus: (status) => this.#setStatus(status),
      resetTerminal: () => terminal.reset(),
      sendText: (text) => this.#sendText(text),
      size: () => clampSize(terminal.cols, terminal.rows),
      attached: (attachment) => this.#attached(attachment),
      sessionRecreated: (message) => this.#recreatedEmitter.fire(message),
      exited: (exit) => {
        this.#setStatus(statuses.exited(exit.exitCode, exit.signal));
        this.#exitEmitter.fire(exit);
      },
      reportError: (error) => this.#errorEmitter.fire(error),
      screenRestored: (restore) => this.#screenEmitter.fire(restore),
    };
  }

  async #nextAttempt(): Promise<{ url: string; protocols: string[] }> {
    const socket = this.#socket;
    if (this.#gate && this.#gate.shouldHold(this.#dialect.sandboxAsleep)) {
      if (this.#status.state !== 'paused') this.#setStatus(statuses.paused());
      await this.#gate.wait();
      if (!this.#disposed && this.#status.state === 'paused') this.#setStatus(statuses.reconnecting(Math.max(socket?.retryCount ?? 1, 1)));
    }
    const retry = socket?.retryCount ?? 0;
    if (retry > 0) await delay(reconnectDelayMs(this.#policy, retry, Math.random()));
    this.#openedThisAttempt = false;
    const terminal = this.#terminal;
    const size = terminal ? clampSize(terminal.cols, terminal.rows) : { cols: 80, rows: 24 };
    return this.#dialect.nextAttempt(this.#output?.position, size);
  }

  #attached(attachment: Attachment): void {
    const afterOutage = this.#status.state === 'unreachable' || this.#failedAttempts >= UNREACHABLE_AFTER_ATTEMPTS;
    this.#failedAttempts = 0;
    if (attachment.restarted) this.#setStatus(statuses.restarted());
    else this.#setStatus(statuses.connected(attachment.mode, attachment.recreation, { afterOutage }));
    if (!this.#everAttached) {
      this.#everAttached = true;
      this.#sendTypeahead();
    }
    if (attachment.ready) this.#readyEmitter.fire(attachment.ready);
  }

  readonly #handleOpen = (): void => {
    this.#openedThisAttempt = true;
    this.#gate?.connected();
    this.#setStatus(statuses.connecting('attaching to the session…'));
    if (this.#host) this.#dialect.opened(this.#host);
    if (this.#dialect.keepaliveFrame) this.#startKeepalive(this.#dialect.keepaliveFrame);
  };

  readonly #handleMessage = (event: MessageEvent): void => {
    if (typeof event.data === 'string') {
      if (this.#host) this.#dialect.receiveText(event.data, this.#host);
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
    const outcome = this.#closeOutcome;
    this.#closeOutcome = { kind: 'retry' };
    if (outcome.kind === 'final') {
      const error = { ...outcome.error, message: event.reason || outcome.error.message };
      this.#errorEmitter.fire(error);
      this.#setStatus(statuses.error(error));
      this.#dropTypeahead();
      return;
    }
    if (outcome.kind === 'exited') return;
    if (!this.#openedThisAttempt) this.#failedAttempts++;
    this.#openedThisAttempt = false;
    const attempt = Math.max(this.#socket?.retryCount ?? 1, 1);
    const next = this.#gate?.shouldHold(this.#dialect.sandboxAsleep) ? statuses.paused() : this.#failedAttempts >= UNREACHABLE_AFTER_ATTEMPTS ? statuses.unreachable(attempt) : statuses.reconnecting(attempt);
    // "input not sent" stays said until the session is back: the next retry is no news to the user who typed.
    this.#setStatus(this.#status.inputDropped ? withInputDropped(next) : next);
    if (this.#typeahead.expired()) this.#dropTypeahead();
  };

  #sendInput(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.readonly || this.#disposed) return;
    const socket = this.#socket;
    if (socket && socket.readyState === ReconnectingWebSocket.OPEN && acceptsInput(this.#status)) {
      this.#sendBytes(socket, bytes);
      if (this.#status.state === 'asleep') this.#setStatus(statuses.waking());
      return;
    }
    // Before the first attach, keys are held for a moment (a user who types as the page loads); never after.
    if (!this.#everAttached && this.#status.state !== 'error' && this.#typeahead.push(bytes)) return;
    // Typing is how a user says "I am here": let a connection held back by the wake gate go now.
    if (this.#status.state === 'paused' && this.#gate) {
      this.#setStatus(statuses.reconnecting(Math.max(socket?.retryCount ?? 1, 1)));
      this.#gate.open();
    }
    this.#setStatus(withInputDropped(this.#status));
  }

  #sendTypeahead(): void {
    const socket = this.#socket;
    const held = this.#typeahead.take();
    if (held === undefined) {
      this.#setStatus(withInputDropped(this.#status));
      return;
    }
    if (socket) for (const bytes of held) this.#sendBytes(socket, bytes);
  }

  #dropTypeahead(): void {
    if (!this.#typeahead.pending) return;
    this.#typeahead.clear();
    this.#setStatus(withInputDropped(this.#status));
  }

  #sendBytes(socket: ReconnectingWebSocket, bytes: Uint8Array<ArrayBuffer>): void {
    for (let start = 0; start < bytes.length; start += INPUT_FRAME_BYTES) socket.send(bytes.subarray(start, start + INPUT_FRAME_BYTES));
  }

  #sendText(text: string): void {
    const socket = this.#socket;
    if (socket && socket.readyState === ReconnectingWebSocket.OPEN) socket.send(text);
  }

  #startKeepalive(frame: string): void {
    this.#stopKeepalive();
    this.#keepalive = setInterval(() => this.#sendText(frame), KEEPALIVE_PING_INTERVAL_MS);
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

function clampSize(cols: number, rows: number): { cols: number; rows: number } {
  return {
    cols: Math.min(TERMINAL_MAX_COLS, Math.max(TERMINAL_MIN_COLS, cols)),
    rows: Math.min(TERMINAL_MAX_ROWS, Math.max(TERMINAL_MIN_ROWS, rows)),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
