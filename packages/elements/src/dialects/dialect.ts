import type { AttachMode, ErrorPayload, ExitMessage, ReadyMessage, RecreationReason, SessionRecreatedMessage } from '@sandbox-terminal/protocol';
import type { ConnectionStatus } from '../connection-status.ts';
import type { OutputFlow } from '../output-flow.ts';

/**
 * The wire protocol a connection speaks: ours (`sandbox-terminal.v1`), Cloudflare Sandbox SDK 0.x's
 * `sandbox.terminal(request)` (`cloudflare`), or a Worker that follows the Sandbox SDK 1.0 browser-terminal recipe
 * (`cloudflare-1`).
 */
export type TerminalProtocol = 'sandbox-terminal' | 'cloudflare' | 'cloudflare-1';

/** Where the next connection attempt goes. */
export interface ConnectionAttempt {
  url: string;
  /** Offered in `Sec-WebSocket-Protocol`; empty for servers that must not be offered any. */
  protocols: string[];
}

/** What the connection does after the server closed the socket with some code. */
export type CloseOutcome =
  /** Try again with backoff: a drop, a restart, a proxy hiccup. */
  | { kind: 'retry' }
  /** Trying again cannot succeed: say why and stop. */
  | { kind: 'final'; error: ErrorPayload }
  /** The shell ended and the server closed the socket after saying so: stay in the exited state. */
  | { kind: 'exited' };

/** What `onScreenRestore` reports. */
export interface ScreenRestore {
  /** The output position the snapshot corresponds to. */
  position: number;
  /** True when it replaced a replay: the bytes since this terminal's cursor had already left the relay's log. */
  truncated: boolean;
}

/** How the server attached the session, as far as the dialect can tell. */
export interface Attachment {
  mode: AttachMode;
  /** The relay's own `ready`; absent for servers that send no such detail. */
  ready?: ReadyMessage;
  /** Set when the shell had to be started again under the same id (cwd and env restored). */
  recreation?: { cwd: string; reason: RecreationReason | undefined };
  /** The page had asked for a new shell (`restart()`): this is it. */
  restarted?: boolean;
}

/** What the connection offers its dialect: the terminal's output path, the status, and the addon's events. */
export interface DialectHost {
  readonly output: OutputFlow;
  readonly status: ConnectionStatus;
  setStatus(status: ConnectionStatus): void;
  /** Clears the screen and scrollback before a server redraws them. */
  resetTerminal(): void;
  /** Sends a text frame if the socket is open; dropped otherwise (control frames are never queued). */
  sendText(text: string): void;
  /** The terminal's current size, clamped to the protocol's bounds. */
  size(): { cols: number; rows: number };
  /** The session is attached and takes input. */
  attached(attachment: Attachment): void;
  sessionRecreated(message: SessionRecreatedMessage): void;
  exited(exit: ExitMessage): void;
  reportError(error: ErrorPayload): void;
  screenRestored(restore: ScreenRestore): void;
}

/**
 * One wire dialect: how to reach the server, and what its frames mean. The connection (`RelayConnectionAddon`) owns
 * the socket, reconnection, input and output bytes, and status; it asks the dialect at each point where servers
 * differ, the way node-pty asks a platform's class instead of branching on the platform.
 */
export interface TerminalDialect {
  readonly protocol: TerminalProtocol;
  /** The session id, when the page chooses it; undefined where the server decides (a Cloudflare Worker). */
  readonly sessionId: string | undefined;
  /** True while the server said the sandbox sleeps: reconnection may be held back while nobody can see the page. */
  readonly sandboxAsleep: boolean;
  /** A frame sent every so often so that proxies do not cut an idle socket; undefined when the server knows none. */
  readonly keepaliveFrame: string | undefined;
  /** URL and subprotocols of the next attempt; asked after the backoff, so a token in them is a fresh one. */
  nextAttempt(position: number | undefined, size: { cols: number; rows: number }): Promise<ConnectionAttempt>;
  /** The socket opened. */
  opened(host: DialectHost): void;
  /** A text frame arrived. */
  receiveText(text: string, host: DialectHost): void;
  /** The frame that tells the server the terminal's new size. */
  resizeFrame(size: { cols: number; rows: number }): string;
  /** What to do after the socket closed with `code`. */
  closed(code: number, reason: string, host: DialectHost): CloseOutcome;
  /**
   * The page asked the server for a new shell under the same session: the next attach is a fresh shell, not a
   * session restored from sleep.
   */
  expectRestart(): void;
}
