/**
 * Every error the relay reports, over HTTP or the terminal WebSocket, carries one of these codes.
 * Server and client share this list so a caller can branch on `error.code` instead of parsing messages.
 */
export const ERROR_CODES = [
  /** The request body, a query parameter or a WebSocket control frame failed validation. */
  'BAD_REQUEST',
  /** A WebSocket text frame named a message type this protocol version does not know. */
  'UNKNOWN_MESSAGE',
  /** The sandbox id is not a valid id. */
  'INVALID_SANDBOX_ID',
  /** No session with that id was ever created, or it was deleted, or its record expired. */
  'SESSION_NOT_FOUND',
  /** `createSession` with an id that is already in use. */
  'SESSION_EXISTS',
  /** The session's shell has exited; `restart` starts a new one under the same id. */
  'SESSION_EXITED',
  /** A path was outside `/workspace`, relative, contained NUL bytes or led out through a symlink. */
  'PATH_OUTSIDE_WORKSPACE',
  /** The file or directory does not exist. */
  'FILE_NOT_FOUND',
  /** The path exists but is of the wrong kind (a directory where a file was expected, …). */
  'NOT_A_FILE',
  /** Another filesystem failure (permissions, a non-empty directory, …). */
  'FILE_ERROR',
  /** The filesystem holding the file (or the sandbox's `/tmp`) is full, or a quota is used up; nothing was changed. */
  'NO_SPACE',
  /** The relay requires a token (it runs with a secret) and none was sent, or it is invalid or expired. */
  'UNAUTHORIZED',
  /** The token is valid but does not allow this: another sandbox or session, or a scope too low for the call. */
  'FORBIDDEN',
  /** A named limit was exceeded; `details.limit` says which. */
  'LIMIT_EXCEEDED',
  /** The sandbox could not be started. */
  'SANDBOX_START_FAILED',
  /** The relay is shutting down. */
  'SHUTTING_DOWN',
  /** `createSandbox` with a template for a sandbox that already has files or was started from another template. */
  'SANDBOX_EXISTS',
  /** The sandbox is being deleted (a reset); try again in a moment. */
  'SANDBOX_DELETING',
  /** No template of that name is configured on the relay (`--template NAME=DIR`). */
  'TEMPLATE_NOT_FOUND',
  /** The relay does not hand out guest sandboxes (it runs without `--guest`). */
  'GUEST_MODE_OFF',
  /** The guest sandbox reached the end of its lifetime (or was removed): ask for a new guest grant. */
  'GUEST_EXPIRED',
  /**
   * Several relays share the sandboxes: the one that runs this sandbox cannot be reached from the relay that took the
   * call, and its lease has not run out. Try again in a moment (the sandbox moves once the lease expires).
   */
  'SANDBOX_UNAVAILABLE',
  /** Route not found. */
  'NOT_FOUND',
  /** Something the relay did not expect; the message says what. */
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The body of every error response and the payload of the terminal's `error` message. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** The HTTP status the relay answers each code with. */
export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNKNOWN_MESSAGE: 400,
  INVALID_SANDBOX_ID: 400,
  SESSION_NOT_FOUND: 404,
  SESSION_EXISTS: 409,
  SESSION_EXITED: 409,
  PATH_OUTSIDE_WORKSPACE: 400,
  FILE_NOT_FOUND: 404,
  NOT_A_FILE: 400,
  FILE_ERROR: 500,
  NO_SPACE: 507,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  LIMIT_EXCEEDED: 413,
  SANDBOX_START_FAILED: 503,
  SHUTTING_DOWN: 503,
  SANDBOX_EXISTS: 409,
  SANDBOX_DELETING: 503,
  TEMPLATE_NOT_FOUND: 404,
  GUEST_MODE_OFF: 404,
  GUEST_EXPIRED: 401,
  SANDBOX_UNAVAILABLE: 503,
  NOT_FOUND: 404,
  INTERNAL: 500,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
