import {
  ERROR_BY_CLOSE_CODE,
  parseServerControl,
  TERMINAL_CLOSE_CODES,
  type ReadyMessage,
  type ScreenMessage,
  type ServerControlMessage,
  type SessionRecreatedMessage,
} from '@sandbox-terminal/protocol';
import { statuses } from '../connection-status.ts';
import type { CloseOutcome, ConnectionAttempt, DialectHost, TerminalDialect } from './dialect.ts';

/**
 * Where a session's terminal socket is and what to offer it: the part of the client SDK's `Sandbox` the relay dialect
 * needs (any object with these members will do).
 */
export interface TerminalSocketTarget {
  terminalUrl(sessionId: string, options?: { cols?: number; rows?: number }): string;
  /** Asked before every connection attempt, so a token in them can be a fresh one each time. */
  terminalProtocols(): string[] | Promise<string[]>;
  /** True when `terminalProtocols` fetches a new token each time: a connection refused as unauthorized is retried. */
  readonly refreshesToken?: boolean;
}

/** Error codes on the socket that end the session for this viewer; others (a refused control frame) leave it usable. */
const FATAL_ERROR_CODES = new Set(['SESSION_NOT_FOUND', 'INVALID_SANDBOX_ID', 'SANDBOX_START_FAILED', 'LIMIT_EXCEEDED']);

/**
 * Close codes in the protocol's table after which the relay is worth trying again: it was going away, or the sandbox
 * was moving to another relay (the next attempt is placed where it went).
 */
const RETRY_CLOSE_CODES = new Set<number>([TERMINAL_CLOSE_CODES.SHUTTING_DOWN, TERMINAL_CLOSE_CODES.SANDBOX_UNAVAILABLE]);

/**
 * `sandbox-terminal.v1`, this project's relay: the session id is the page's, the token rides in a subprotocol, every
 * reconnect carries `?cursor=N` so the relay sends exactly what this terminal was not given (or a `screen` when it
 * cannot), and the relay says when the sandbox sleeps and why a session had to be recreated.
 */
export class RelayDialect implements TerminalDialect {
  readonly protocol = 'sandbox-terminal';
  readonly keepaliveFrame = JSON.stringify({ type: 'ping' });
  readonly sessionId: string;
  readonly #target: TerminalSocketTarget;
  #sandboxAsleep = false;
  #pendingRecreation: SessionRecreatedMessage | undefined;
  #restartRequested = false;
  /** The relay said our cursor had left its output log; the `screen` that follows says so out loud. */
  #cursorTruncated = false;

  constructor(target: TerminalSocketTarget, sessionId: string) {
    this.#target = target;
    this.sessionId = sessionId;
  }

  get sandboxAsleep(): boolean {
    return this.#sandboxAsleep;
  }

  async nextAttempt(position: number | undefined, size: { cols: number; rows: number }): Promise<ConnectionAttempt> {
    const protocols = await this.#target.terminalProtocols();
    return { url: withCursor(this.#target.terminalUrl(this.sessionId, size), position), protocols };
  }

  opened(): void {
    // The relay speaks first (`ready`); nothing to reset before it says how it attached.
  }

  receiveText(text: string, host: DialectHost): void {
    const message = parseServerControl(text);
    if (message) this.#handle(message, host);
  }

  resizeFrame(size: { cols: number; rows: number }): string {
    return JSON.stringify({ type: 'resize', ...size });
  }

  closed(code: number, reason: string): CloseOutcome {
    const error = ERROR_BY_CLOSE_CODE.get(code);
    if (!error || RETRY_CLOSE_CODES.has(code)) return { kind: 'retry' };
    // A refused token is final unless every attempt fetches a new one (`getToken`): then the old one had expired.
    if (error === 'UNAUTHORIZED' && this.#target.refreshesToken === true) return { kind: 'retry' };
    const message = reason || (code === TERMINAL_CLOSE_CODES.SESSION_DELETED ? 'the session was deleted' : '');
    return { kind: 'final', error: { code: error, message } };
  }

  expectRestart(): void {
    this.#restartRequested = true;
  }

  #handle(message: ServerControlMessage, host: DialectHost): void {
    switch (message.type) {
      case 'ready':
        this.#handleReady(message, host);
        break;
      case 'session-recreated':
        if (this.#restartRequested) break;
        this.#pendingRecreation = message;
        host.sessionRecreated(message);
        break;
      case 'exit':
        host.exited(message);
        break;
      case 'sleeping':
        this.#sandboxAsleep = true;
        host.setStatus(statuses.asleep());
        break;
      case 'error': {
        const { type: _type, ...payload } = message;
        host.reportError(payload);
        if (FATAL_ERROR_CODES.has(message.code)) host.setStatus(statuses.error(payload));
        break;
      }
      case 'screen':
        this.#handleScreen(message, host);
        break;
      case 'truncated':
        this.#cursorTruncated = true;
        break;
      case 'pong':
        break;
    }
  }

  #handleReady(message: ReadyMessage, host: DialectHost): void {
    this.#cursorTruncated = false;
    if (message.resumed === true && typeof message.position === 'number') {
      // The relay continues exactly after the last byte this terminal was given: keep the screen, add what follows.
      host.output.resume(message.position);
    } else {
      // What follows `ready` redraws the session from scratch (a `screen` snapshot); starting from a clean screen
      // keeps a reconnect from showing everything twice.
      host.resetTerminal();
      host.output.start(typeof message.position === 'number' ? message.position : undefined);
    }
    this.#sandboxAsleep = false;
    const pending = this.#pendingRecreation;
    this.#pendingRecreation = undefined;
    const recreated = pending ?? (message.mode === 'recreated' ? { cwd: message.cwd, reason: undefined } : undefined);
    const restarted = this.#restartRequested;
    this.#restartRequested = false;
    host.attached({
      mode: message.mode,
      ready: message,
      ...(recreated && !restarted ? { recreation: { cwd: recreated.cwd, reason: recreated.reason } } : {}),
      ...(restarted ? { restarted } : {}),
    });
    const size = host.size();
    if (size.cols !== message.cols || size.rows !== message.rows) host.sendText(this.resizeFrame(size));
  }

  #handleScreen(message: ScreenMessage, host: DialectHost): void {
    host.output.screen(message.data, message.position);
    const truncated = this.#cursorTruncated;
    this.#cursorTruncated = false;
    if (truncated && host.status.state === 'connected') host.setStatus(statuses.screenRestored(host.status));
    host.screenRestored({ position: message.position, truncated });
  }
}

/** `?cursor=N` once output positions are known, so the relay replays exactly what this terminal has not been given. */
function withCursor(url: string, position: number | undefined): string {
  if (position === undefined) return url;
  const withParam = new URL(url);
  withParam.searchParams.set('cursor', String(position));
  return withParam.toString();
}
