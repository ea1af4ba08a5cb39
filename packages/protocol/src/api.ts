export type { CreateSandboxRequest, CreateSessionRequest, ExecRequest, GuestGrantRequest, MkdirRequest } from './api-schemas.ts';

/**
 * The relay's HTTP API: request and response shapes (the relay validates request bodies with the zod schemas in
 * api-schemas.ts).
 * Paths are built by `apiPaths` so server routes and client calls cannot drift apart.
 */

/** Sandbox and session ids: what fits in a URL segment, a file name and a log line without escaping. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Names of the relay's workspace templates (`--template NAME=DIR`). */
export const TEMPLATE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Exported variable names a session may carry: POSIX shell names. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type SessionStatus = 'active' | 'sleeping' | 'exited';

export interface SessionInfo {
  id: string;
  sandboxId: string;
  status: SessionStatus;
  /** Last working directory the shell reported (at its prompt or the end of an exec). */
  cwd: string;
  /** Set when status is `exited`. */
  exitCode?: number;
  createdAt: string;
  lastActiveAt: string;
  /** Terminal viewers attached right now. */
  viewers: number;
  cols: number;
  rows: number;
}

export interface CreateSessionResponse {
  id: string;
  session: SessionInfo;
}

export interface ExecResult {
  success: boolean;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** True when either stream went over the relay's exec output limit and was cut there. */
  truncated: boolean;
  /** True when the session had been asleep and was recreated (cwd and env restored) to run this command. */
  sessionRecreated: boolean;
  command: string;
  session?: string;
  /**
   * Sandbox-wide limits the kernel enforced while the command ran: a fork refused (`sandboxProcesses`) or a process
   * killed for memory (`sandboxMemoryBytes`), by this command or by another process of the same sandbox. Absent when
   * none was hit, and on hosts where the relay cannot apply these limits.
   */
  limitsHit?: SandboxLimitName[];
}

/** The per-sandbox limits the kernel enforces (cgroups); see `ExecResult.limitsHit`. */
export type SandboxLimitName = 'sandboxProcesses' | 'sandboxMemoryBytes';

/** One line of the `exec/stream` NDJSON response. */
export type ExecStreamEvent =
  | { type: 'start'; command: string; session?: string; sessionRecreated: boolean; timestamp: string }
  | { type: 'stdout'; data: string }
  | { type: 'stderr'; data: string }
  | { type: 'exit'; exitCode: number; success: boolean; timedOut: boolean; truncated: boolean; durationMs: number }
  | { type: 'error'; code: string; message: string };

export type FileEntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface FileEntry {
  name: string;
  path: string;
  type: FileEntryType;
  size: number;
  modifiedAt: string;
}

export interface ListFilesResponse {
  path: string;
  entries: FileEntry[];
}

export interface ExistsResponse {
  exists: boolean;
}

export interface SessionListResponse {
  sessions: SessionInfo[];
}

/** `PUT /v1/sandboxes/:id`: the sandbox is ready; `created` when this call copied its template. */
export interface CreateSandboxResponse {
  id: string;
  /** The template its workspace was started from, if any. */
  template: string | null;
  created: boolean;
}

/**
 * `POST /v1/guest/grants`: a sandbox of the reader's own, chosen by the relay, with a short-lived access token bound
 * to it (`owner` scope) and a renewal token that buys new access tokens until the sandbox's lifetime ends.
 */
export interface GuestGrant {
  sandbox: string;
  token: string;
  /** ISO time the access token expires. */
  tokenExpiresAt: string;
  /** Send as the bearer token to `apiPaths.guestToken()` for a new access token; keep it like a password. */
  renewal: string;
  /** ISO time the sandbox is deleted (its lifetime); renewals stop working then. */
  sandboxExpiresAt: string;
  template: string | null;
}

/** `POST /v1/guest/token` (bearer: the renewal token): a new access token for the same guest sandbox. */
export interface GuestTokenResponse {
  sandbox: string;
  token: string;
  tokenExpiresAt: string;
  sandboxExpiresAt: string;
}

/** Paths of every relay endpoint; ids are URL-encoded here and nowhere else. */
export const apiPaths = {
  health: () => '/healthz',
  /** PUT: prepare (from a template); DELETE: stop it and delete its workspace and sessions. */
  sandbox: (sandbox: string) => `/v1/sandboxes/${encodeURIComponent(sandbox)}`,
  /** POST: a new guest sandbox and its tokens (no token needed). */
  guestGrants: () => '/v1/guest/grants',
  /** POST with the renewal token as bearer: a new access token. */
  guestToken: () => '/v1/guest/token',
  sessions: (sandbox: string) => `/v1/sandboxes/${encodeURIComponent(sandbox)}/sessions`,
  session: (sandbox: string, session: string) =>
    `/v1/sandboxes/${encodeURIComponent(sandbox)}/sessions/${encodeURIComponent(session)}`,
  restart: (sandbox: string, session: string) => `${apiPaths.session(sandbox, session)}/restart`,
  terminal: (sandbox: string, session: string) => `${apiPaths.session(sandbox, session)}/terminal`,
  exec: (sandbox: string) => `/v1/sandboxes/${encodeURIComponent(sandbox)}/exec`,
  execStream: (sandbox: string) => `/v1/sandboxes/${encodeURIComponent(sandbox)}/exec/stream`,
  /** GET (read), PUT (write), DELETE; `?path=` names the file. */
  files: (sandbox: string) => `/v1/sandboxes/${encodeURIComponent(sandbox)}/files`,
  list: (sandbox: string) => `/v1/sandboxes/${encodeURIComponent(sandbox)}/files/list`,
  exists: (sandbox: string) => `/v1/sandboxes/${encodeURIComponent(sandbox)}/files/exists`,
  mkdir: (sandbox: string) => `/v1/sandboxes/${encodeURIComponent(sandbox)}/files/mkdir`,
} as const;

/** Response header on a successful exec that had to recreate its session; also in the JSON body. */
export const SESSION_RECREATED_HEADER = 'x-session-recreated';
