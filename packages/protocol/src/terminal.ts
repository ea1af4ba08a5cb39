import { z } from 'zod';
import type { ErrorPayload } from './errors.ts';

/**
 * The terminal WebSocket: one per (sandbox, session) viewer.
 * Binary frames carry raw terminal bytes, untouched, both ways. Text frames carry JSON control messages,
 * all of which are defined here. See docs/protocol.md.
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

export const colsSchema = z.number().int().min(TERMINAL_MIN_COLS).max(TERMINAL_MAX_COLS);
export const rowsSchema = z.number().int().min(TERMINAL_MIN_ROWS).max(TERMINAL_MAX_ROWS);

// ---------------------------------------------------------------- client → relay

export const resizeMessage = z.object({ type: z.literal('resize'), cols: colsSchema, rows: rowsSchema }).strict();
/** Keeps idle proxies from closing the socket; the relay answers `pong`. Does not count as sandbox activity. */
export const pingMessage = z.object({ type: z.literal('ping') }).strict();

/** The client has processed (rendered) every output byte before `position`; drives flow control. */
export const ackMessage = z.object({ type: z.literal('ack'), position: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict();

export const clientControlMessage = z.discriminatedUnion('type', [resizeMessage, pingMessage, ackMessage]);
export type ClientControlMessage = z.infer<typeof clientControlMessage>;
export type ResizeMessage = z.infer<typeof resizeMessage>;
export type AckMessage = z.infer<typeof ackMessage>;

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

/** The sandbox had gone to sleep; the session was started again under the same id with its cwd and env restored. */
export interface SessionRecreatedMessage {
  type: 'session-recreated';
  sessionId: string;
  cwd: string;
  /** Names of the exported variables that were restored. */
  restoredEnv: string[];
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

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ErrorPayload };

/**
 * Validates one text frame from a client. Never throws: malformed JSON, unknown types and bad values all come
 * back as a typed error the relay sends to that client, leaving the connection and session up.
 */
export function parseClientControl(text: string): ParseResult<ClientControlMessage> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: 'BAD_REQUEST', message: 'control frame is not valid JSON' } };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: { code: 'BAD_REQUEST', message: 'control frame must be a JSON object' } };
  }
  const type = (raw as { type?: unknown }).type;
  if (type !== 'resize' && type !== 'ping' && type !== 'ack') {
    return {
      ok: false,
      error: { code: 'UNKNOWN_MESSAGE', message: `unknown control message type ${JSON.stringify(type ?? null).slice(0, 64)}` },
    };
  }
  const parsed = clientControlMessage.safeParse(raw);
  if (!parsed.success) {
    const outOfBounds = type === 'resize' ? sizeOverLimit(raw as Record<string, unknown>) : undefined;
    if (outOfBounds) return { ok: false, error: outOfBounds };
    return { ok: false, error: { code: 'BAD_REQUEST', message: describeIssues(parsed.error) } };
  }
  return { ok: true, value: parsed.data };
}

/** A resize that is well-formed except that a dimension is outside the bounds: a limit, named as such. */
function sizeOverLimit(raw: Record<string, unknown>): ErrorPayload | undefined {
  const keys = Object.keys(raw).sort().join(',');
  const { cols, rows } = raw;
  if (keys !== 'cols,rows,type' || !Number.isSafeInteger(cols) || !Number.isSafeInteger(rows)) return undefined;
  const bounds = [
    { limit: 'terminalCols', value: cols as number, min: TERMINAL_MIN_COLS, max: TERMINAL_MAX_COLS },
    { limit: 'terminalRows', value: rows as number, min: TERMINAL_MIN_ROWS, max: TERMINAL_MAX_ROWS },
  ];
  const over = bounds.find(({ value, min, max }) => value < min || value > max);
  if (!over) return undefined;
  return {
    code: 'LIMIT_EXCEEDED',
    message: `${over.limit === 'terminalCols' ? 'cols' : 'rows'} must be between ${over.min} and ${over.max}`,
    details: { limit: over.limit, value: over.value < over.min ? over.min : over.max },
  };
}

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

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/**
 * WebSocket close codes the relay uses (4000-4999 is the application range). A client should not reconnect
 * automatically after `SESSION_NOT_FOUND` or `BAD_REQUEST`: trying again cannot succeed.
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
} as const;
