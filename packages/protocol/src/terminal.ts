import type { ErrorCode, ErrorPayload } from './errors.ts';

export type { AckMessage, ClientControlMessage, ParseResult, ResizeMessage } from './terminal-schemas.ts';

/**
 * The terminal WebSocket: one per (sandbox, session) viewer.
 * Binary frames carry raw terminal bytes, untouched, both ways. Text frames carry JSON control messages,
 * all of which are defined here (the client's, validated with zod, in terminal-schemas.ts). See docs/protocol.md.
 */

/** Offered by our clients in `Sec-WebSocket-Protocol`; the relay echoes it back when it speaks it. */
export const TERMINAL_SUBPROTOCOL = 'sandbox-terminal.v1';

/**
 * Terminal sizes outside these bounds are refused with `LIMIT_EXCEEDED` (`details.limit`: `terminalCols` or
 * `terminalRows`): a PTY cannot be 0 wide, and a huge one wastes the relay's memory in its screen mirror.
 */
export const TERMINAL_MIN_COLS = 2;
export const TERMINAL_MAX_COLS = 1000;
export const TERMINAL_MIN_ROWS = 1;
export const TERMINAL_MAX_ROWS = 500;

// ---------------------------------------------------------------- relay → client

/** How the session came to be attached: `created` (new), `attached` (already running), `recreated` (woken from sleep). */
export type AttachMode = 'created' | 'attached' | 'recreated';

export interface ReadyMessage {
  type: 'ready';
  sessionId: string;
  sandboxId: string;
  cols: number;
  rows: number;
  /** The shell's working directory as last reported by its prompt. */
  cwd: string;
  mode: AttachMode;
  /** Output position of the next binary byte this viewer receives (positions count every byte the session showed). */
  position: number;
  /**
   * True when the viewer connected with `?cursor=N` and gets exactly the bytes after N. Otherwise a `screen`
   * message follows with the current screen, and binary output continues from its position.
   */
  resumed: boolean;
}

/** Reset the terminal and write `data` (the current screen, alternate screen and scrollback included). */
export interface ScreenMessage {
  type: 'screen';
  data: string;
  /** Output position the screen corresponds to; binary output continues from here. */
  position: number;
}

/** The viewer's cursor had already left the session's output log: the screen is restored instead of replayed. */
export interface TruncatedMessage {
  type: 'truncated';
  requested: number;
  position: number;
}

/**
 * Why a session's shell had to be started again under the same id (its cwd and exported env restored, running
 * programs lost): `slept` — the sandbox went to sleep after being idle; `relay-restarted` — the relay that ran it
 * stopped or crashed and the session came back from the registry on the same relay; `relay-failed-over` — the relay
 * that ran it stopped or crashed and another relay of the cluster (sharing the Redis registry) brought it back;
 * `sandbox-stopped` — the sandbox's processes were killed from outside while the relay ran.
 */
export type RecreationReason = 'slept' | 'relay-restarted' | 'relay-failed-over' | 'sandbox-stopped';

/** The session was started again under the same id with its cwd and env restored (see `RecreationReason`). */
export interface SessionRecreatedMessage {
  type: 'session-recreated';
  sessionId: string;
  cwd: string;
  /** Names of the exported variables that were restored. */
  restoredEnv: string[];
  /** Why it had to be recreated; what the user is told depends on it. */
  reason: RecreationReason;
}

/** The shell ended (the user typed `exit`, or it was killed). It is not restarted unless a client asks for `restart`. */
export interface ExitMessage {
  type: 'exit';
  exitCode: number;
  signal: number | null;
}

/** The sandbox went to sleep after being idle; the session will be recreated on the next input or attach. */
export interface SleepingMessage {
  type: 'sleeping';
}

export interface ErrorMessage extends ErrorPayload {
  type: 'error';
}

export interface PongMessage {
  type: 'pong';
}

export type ServerControlMessage =
  | ReadyMessage
  | ScreenMessage
  | TruncatedMessage
  | SessionRecreatedMessage
  | ExitMessage
  | SleepingMessage
  | ErrorMessage
  | PongMessage;

const serverControlTypes = new Set(['ready', 'screen', 'truncated', 'session-recreated', 'exit', 'sleeping', 'error', 'pong']);

/** Parses a text frame from the relay; returns null for anything that is not a known control message. */
export function parseServerControl(text: string): ServerControlMessage | null {
  try {
    const raw: unknown = JSON.parse(text);
    if (typeof raw === 'object' && raw !== null && serverControlTypes.has((raw as { type?: string }).type ?? '')) {
      return raw as ServerControlMessage;
    }
  } catch {
    // fall through: not ours
  }
  return null;
}


/**
 * WebSocket close codes the relay uses (4000-4999 is the application range). A client should not reconnect
 * automatically after `SESSION_NOT_FOUND`, `BAD_REQUEST` or `SANDBOX_START_FAILED`; after `SHUTTING_DOWN` and
 * `SANDBOX_UNAVAILABLE` it should, with its backoff.
 */
export const TERMINAL_CLOSE_CODES = {
  /** The session id is unknown, deleted or expired. */
  SESSION_NOT_FOUND: 4404,
  /** The upgrade request was malformed (bad ids, bad size). */
  BAD_REQUEST: 4400,
  /** The session was deleted while this viewer was attached. */
  SESSION_DELETED: 4410,
  /** The relay is shutting down; reconnecting later will work. */
  SHUTTING_DOWN: 4503,
  /** No valid token was offered (the relay runs with a secret); reconnecting needs a fresh token. */
  UNAUTHORIZED: 4401,
  /** The token does not allow this sandbox or session. */
  FORBIDDEN: 4403,
  /** A named limit was exceeded (viewers per session, message size, …). */
  LIMIT_EXCEEDED: 4413,
  /** The viewer did not read its output for `stalledViewerCloseMs`; reconnecting restores the screen. */
  TOO_SLOW: 4429,
  /** The sandbox could not be started to attach to (the backend refused, or the shell did not come up). */
  SANDBOX_START_FAILED: 4500,
  /** The sandbox moved to another relay, or the relay running it does not answer: reconnecting finds its new place. */
  SANDBOX_UNAVAILABLE: 4502,
} as const;

export type TerminalCloseCode = (typeof TERMINAL_CLOSE_CODES)[keyof typeof TERMINAL_CLOSE_CODES];

/** The close code a terminal attach refused with `code` ends with; codes without their own end as `BAD_REQUEST`. */
export function closeCodeForError(code: ErrorCode): TerminalCloseCode {
  switch (code) {
    case 'SESSION_NOT_FOUND':
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
    case 'LIMIT_EXCEEDED':
    case 'SHUTTING_DOWN':
    case 'SANDBOX_START_FAILED':
    case 'SANDBOX_UNAVAILABLE':
      return TERMINAL_CLOSE_CODES[code];
    default:
      return TERMINAL_CLOSE_CODES.BAD_REQUEST;
  }
}

/** The error a client reports for each close code the relay ends a connection with (the inverse of `closeCodeForError`). */
export const ERROR_BY_CLOSE_CODE: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  [TERMINAL_CLOSE_CODES.SESSION_NOT_FOUND, 'SESSION_NOT_FOUND'],
  [TERMINAL_CLOSE_CODES.SESSION_DELETED, 'SESSION_NOT_FOUND'],
  [TERMINAL_CLOSE_CODES.BAD_REQUEST, 'BAD_REQUEST'],
  [TERMINAL_CLOSE_CODES.UNAUTHORIZED, 'UNAUTHORIZED'],
  [TERMINAL_CLOSE_CODES.FORBIDDEN, 'FORBIDDEN'],
  [TERMINAL_CLOSE_CODES.LIMIT_EXCEEDED, 'LIMIT_EXCEEDED'],
  [TERMINAL_CLOSE_CODES.SHUTTING_DOWN, 'SHUTTING_DOWN'],
  [TERMINAL_CLOSE_CODES.SANDBOX_START_FAILED, 'SANDBOX_START_FAILED'],
  [TERMINAL_CLOSE_CODES.SANDBOX_UNAVAILABLE, 'SANDBOX_UNAVAILABLE'],
]);
