import type { RecreationReason } from './terminal.ts';

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
  /** Set when status is `exited`: the shell's exit code, 128 + n when signal n killed it. */
  exitCode?: number;
  /** Set when status is `exited` because a signal killed the shell: its number (9 for SIGKILL). */
  signal?: number;
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
  /** Exit code 0, not timed out, not killed by a signal. */
  success: boolean;
  /** The command's exit code; 128 + n when signal n killed it (or killed the session's shell running it). */
  exitCode: number;
  /** The number of the signal that killed the command or the session's shell (9 for SIGKILL); absent otherwise. */
  signal?: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** True when either stream went over the relay's exec output limit and was cut there. */
  truncated: boolean;
  /** True when the session had been asleep and was recreated (cwd and env restored) to run this command. */
  sessionRecreated: boolean;
  /** Why the session had to be recreated (set exactly when `sessionRecreated` is true). */
  recreationReason?: RecreationReason;
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
  | { type: 'start'; command: string; session?: string; sessionRecreated: boolean; recreationReason?: RecreationReason; timestamp: string }
  | { type: 'stdout'; data: string }
  | { type: 'stderr'; data: string }
  | { type: 'exit'; exitCode: number; signal?: number; success: boolean; timedOut: boolean; truncated: boolean; durationMs: number }
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

/**
 * Every relay endpoint as a route template: `:sandbox` and `:session` stand for one URL segment each. The relay
 * matches requests against these and `apiPaths` fills them in, so server routes and client calls cannot drift apart.
 */
export const API_ROUTES = {
  health: '/healthz',
  metrics: '/metrics',
  /** PUT: prepare (from a template); DELETE: stop it and delete its workspace and sessions. */
  sandbox: '/v1/sandboxes/:sandbox',
  /** POST: a new guest sandbox and its tokens (no token needed). */
  guestGrants: '/v1/guest/grants',
  /** POST with the renewal token as bearer: a new access token. */
  guestToken: '/v1/guest/token',
  sessions: '/v1/sandboxes/:sandbox/sessions',
  session: '/v1/sandboxes/:sandbox/sessions/:session',
  restart: '/v1/sandboxes/:sandbox/sessions/:session/restart',
  terminal: '/v1/sandboxes/:sandbox/sessions/:session/terminal',
  exec: '/v1/sandboxes/:sandbox/exec',
  execStream: '/v1/sandboxes/:sandbox/exec/stream',
  /** GET (read), PUT (write), DELETE; `?path=` names the file. */
  files: '/v1/sandboxes/:sandbox/files',
  list: '/v1/sandboxes/:sandbox/files/list',
  exists: '/v1/sandboxes/:sandbox/files/exists',
  mkdir: '/v1/sandboxes/:sandbox/files/mkdir',
  adminIdleTimeout: '/v1/admin/idle-timeout',
  adminSleep: '/v1/admin/sandboxes/:sandbox/sleep',
} as const;

export type ApiRoute = (typeof API_ROUTES)[keyof typeof API_ROUTES];

/** Every path of the versioned API starts with this (`/healthz` and `/metrics` do not). */
export const API_PREFIX = '/v1/';

/**
 * A sandbox-scoped path: `/v1/sandboxes/<id>/…` (and the development endpoints under `/v1/admin/sandboxes/<id>/…`).
 * Everything under it concerns that one sandbox, so a relay that does not run the sandbox forwards it, whatever the
 * route, to the relay that does (docs/deployment.md, "Several relays"). The segment is still URL-encoded.
 */
const SANDBOX_PATH = /^\/v1\/(?:admin\/)?sandboxes\/([^/]+)(?:\/|$)/;

/** The (still URL-encoded) sandbox id segment of a sandbox-scoped path, or undefined for any other path. */
export function sandboxSegmentOf(pathname: string): string | undefined {
  return SANDBOX_PATH.exec(pathname)?.[1];
}

/** A route template with its `:name` segments filled in, each URL-encoded (here and nowhere else). */
function fill(route: ApiRoute, sandbox: string, session?: string): string {
  return route.replace(':sandbox', encodeURIComponent(sandbox)).replace(':session', encodeURIComponent(session ?? ''));
}

/** Paths of every relay endpoint, from `API_ROUTES`. */
export const apiPaths = {
  health: () => API_ROUTES.health,
  sandbox: (sandbox: string) => fill(API_ROUTES.sandbox, sandbox),
  guestGrants: () => API_ROUTES.guestGrants,
  guestToken: () => API_ROUTES.guestToken,
  sessions: (sandbox: string) => fill(API_ROUTES.sessions, sandbox),
  session: (sandbox: string, session: string) => fill(API_ROUTES.session, sandbox, session),
  restart: (sandbox: string, session: string) => fill(API_ROUTES.restart, sandbox, session),
  terminal: (sandbox: string, session: string) => fill(API_ROUTES.terminal, sandbox, session),
  exec: (sandbox: string) => fill(API_ROUTES.exec, sandbox),
  execStream: (sandbox: string) => fill(API_ROUTES.execStream, sandbox),
  files: (sandbox: string) => fill(API_ROUTES.files, sandbox),
  list: (sandbox: string) => fill(API_ROUTES.list, sandbox),
  exists: (sandbox: string) => fill(API_ROUTES.exists, sandbox),
  mkdir: (sandbox: string) => fill(API_ROUTES.mkdir, sandbox),
  adminSleep: (sandbox: string) => fill(API_ROUTES.adminSleep, sandbox),
} as const;

/** Response header on a successful exec that had to recreate its session; also in the JSON body. */
export const SESSION_RECREATED_HEADER = 'x-session-recreated';
/** Carries one id through a call across services: a sane incoming one is kept, otherwise the relay makes one; echoed back. */
export const REQUEST_ID_HEADER = 'x-request-id';
/**
 * Relay to relay only: set by a relay that forwards a call to the sandbox's owner (the original client's address and
 * the hop count, signed with the cluster's key). A relay ignores and removes one it cannot verify; clients never send it.
 */
export const RELAY_HOP_HEADER = 'x-sandbox-relay-hop';
