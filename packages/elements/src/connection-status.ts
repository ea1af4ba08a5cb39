import { SandboxError } from '@sandbox-terminal/client';
import type { AttachMode, RecreationReason } from '@sandbox-terminal/protocol';

/**
 * Where a terminal's connection to its session stands. Each state carries the sentence the status bar shows, so
 * every user-visible wording lives in this one module.
 */
export type ConnectionState =
  /** No session yet (creating one, or nothing configured). */
  | 'idle'
  /** First connection attempt, or connected and waiting for the relay's `ready`. */
  | 'connecting'
  | 'connected'
  /** The socket dropped; trying again with backoff. */
  | 'reconnecting'
  /** Several attempts in a row could not reach the relay at all; still trying, with backoff. */
  | 'unreachable'
  /** The sandbox went idle and was stopped; the socket is open and the next keystroke wakes it. */
  | 'asleep'
  /** A keystroke was sent to a sleeping sandbox; waiting for it to come back. */
  | 'waking'
  /** Disconnected while the page is hidden and the sandbox asleep: waits for the page to be visible or for input. */
  | 'paused'
  /** The shell ended; `restart()` starts a new one. */
  | 'exited'
  /** The relay refused the session (not found, deleted, bad request, a limit); no automatic reconnection. */
  | 'error'
  /** Disposed or closed on purpose. */
  | 'closed';

/** An error as the relay (or the network) reported it: `code` for programs, `message` as the relay wrote it. */
export interface ConnectionError {
  /** One of the protocol's `ErrorCode`s, or `NETWORK` when the relay could not be reached at all. */
  code: string;
  message: string;
  details?: Record<string, unknown>;
  /** The HTTP status of the answer, when there was one. */
  httpStatus?: number;
}

export interface ConnectionStatus {
  state: ConnectionState;
  /** The sentence shown to the user. */
  message: string;
  /** `reconnecting`, `unreachable`: which attempt this is, from 1. */
  attempt?: number;
  /** `connected`: how the relay attached the session. */
  mode?: AttachMode;
  /** `connected` after the session's shell had to be started again: the working directory it was restored in. */
  restoredCwd?: string;
  /** `connected` after a recreation: why it was needed, when the relay said. */
  recreationReason?: RecreationReason;
  /** `exited`: the shell's exit code and the signal that killed it, if any. */
  exitCode?: number;
  signal?: number | null;
  /** `error`: what the relay reported; `message` above says it in words for people. */
  error?: ConnectionError;
  /** The user typed while nothing could receive it; the input was not sent. */
  inputDropped?: boolean;
}

const INPUT_NOT_SENT = 'not connected: input not sent';

/** What the user is told about a session restored under its old id, by why it had to be restored. */
function restoredMessage(cwd: string, reason: RecreationReason | undefined): string {
  switch (reason) {
    case 'slept':
      return `sandbox was asleep: session restored in ${cwd}`;
    case 'relay-restarted':
      return `the relay restarted: session restored in ${cwd} (programs that were running have stopped)`;
    case 'relay-failed-over':
      return `the relay running this session stopped, another took over: session restored in ${cwd} (programs that were running have stopped)`;
    case 'sandbox-stopped':
      return `the sandbox had stopped: session restored in ${cwd} (programs that were running have stopped)`;
    default:
      return `session restored in ${cwd} (its shell was started again)`;
  }
}

export const statuses = {
  idle: (message = 'no session'): ConnectionStatus => ({ state: 'idle', message }),
  connecting: (message = 'connecting…'): ConnectionStatus => ({ state: 'connecting', message }),
  /**
   * Attached. `recreation` when the shell had to be started again under the same id; `afterOutage` when the relay
   * had been unreachable, so that the user hears that it is back.
   */
  connected: (
    mode: AttachMode,
    recreation?: { cwd: string; reason: RecreationReason | undefined },
    { afterOutage = false } = {},
  ): ConnectionStatus => {
    if (recreation) {
      return {
        state: 'connected',
        mode,
        restoredCwd: recreation.cwd,
        ...(recreation.reason ? { recreationReason: recreation.reason } : {}),
        message: restoredMessage(recreation.cwd, recreation.reason),
      };
    }
    return { state: 'connected', mode, message: afterOutage ? 'connected: the relay is reachable again' : 'connected' };
  },
  /** Connected, but the output missed while away was more than the relay keeps: the screen was redrawn instead. */
  screenRestored: (connected: ConnectionStatus): ConnectionStatus => ({
    ...connected,
    message: `${connected.message}: missed output was too long to replay, screen restored`,
  }),
  restarted: (): ConnectionStatus => ({ state: 'connected', mode: 'created', message: 'connected: a new shell was started' }),
  reconnecting: (attempt: number): ConnectionStatus => ({
    state: 'reconnecting',
    attempt,
    message: `reconnecting (attempt ${attempt})…`,
  }),
  unreachable: (attempt: number): ConnectionStatus => ({
    state: 'unreachable',
    attempt,
    message: `cannot reach the relay: still trying (attempt ${attempt})`,
  }),
  asleep: (): ConnectionStatus => ({ state: 'asleep', message: 'sandbox is asleep: type to wake it' }),
  waking: (): ConnectionStatus => ({ state: 'waking', message: 'waking the sandbox…' }),
  paused: (): ConnectionStatus => ({
    state: 'paused',
    message: 'disconnected while the sandbox sleeps: reconnects when this page is visible or you type',
  }),
  exited: (exitCode: number, signal: number | null): ConnectionStatus => ({
    state: 'exited',
    exitCode,
    signal,
    message: signal ? `shell exited with code ${exitCode} (signal ${signal})` : `shell exited with code ${exitCode}`,
  }),
  error: (error: ConnectionError): ConnectionStatus => ({ state: 'error', error, message: describeError(error) }),
  closed: (): ConnectionStatus => ({ state: 'closed', message: 'disconnected' }),
};

/**
 * An error in words a user understands. The code and the relay's own message are for developers: they stay in
 * `status.error` and in the status bar's tooltip.
 */
export function describeError({ code, message, details, httpStatus }: ConnectionError): string {
  switch (code) {
    case 'NETWORK':
      return 'cannot reach the relay: check the connection, or whether the relay is running';
    case 'SESSION_NOT_FOUND':
      return 'this session no longer exists: it was closed, or it expired';
    case 'SESSION_EXITED':
      return 'the shell has exited: restart it to go on';
    case 'UNAUTHORIZED':
      return 'the relay did not accept the sign-in token (missing, invalid or expired)';
    case 'FORBIDDEN':
      return 'the sign-in token does not allow this sandbox or session';
    case 'LIMIT_EXCEEDED':
      return describeLimit(details);
    case 'SANDBOX_START_FAILED':
      return 'the sandbox could not be started';
    case 'SHUTTING_DOWN':
      return 'the relay is shutting down: try again in a moment';
    case 'SANDBOX_UNAVAILABLE':
      return 'the relay running this sandbox is not answering: try again in a moment';
    case 'INVALID_SANDBOX_ID':
      return 'the sandbox name is not valid (letters, digits, ".", "_" and "-", at most 128)';
    case 'NOT_FOUND':
      return 'this address does not lead to a sandbox-terminal relay';
    case 'BAD_REQUEST':
    case 'UNKNOWN_MESSAGE':
      return `the relay refused the request (${message})`;
    case 'INTERNAL':
      if (httpStatus === 502 || httpStatus === 503 || httpStatus === 504) {
        return `the relay is not answering (HTTP ${httpStatus} from the server in front of it)`;
      }
      return 'the relay ran into an unexpected error';
    default:
      return message;
  }
}

function describeLimit(details: Record<string, unknown> | undefined): string {
  const limit = details?.limit;
  const value = typeof details?.value === 'number' ? details.value : undefined;
  switch (limit) {
    case 'sessionsPerSandbox':
      return `this sandbox already has ${value ?? 'the most'} sessions, the most it may have`;
    case 'viewersPerSession':
      return `this session already has ${value ?? 'the most'} viewers, the most it may have`;
    case 'sandboxesPerRelay':
      return 'the relay runs as many sandboxes as it may: try again later';
    default:
      return typeof limit === 'string' ? `a relay limit was reached (${limit})` : 'a relay limit was reached';
  }
}

/** The same status, marked and worded to say that the user's input was not sent. */
export function withInputDropped(status: ConnectionStatus): ConnectionStatus {
  if (status.inputDropped) return status;
  const reason = status.state === 'exited' ? 'input not sent: restart the shell first' : INPUT_NOT_SENT;
  return { ...status, inputDropped: true, message: `${status.message} (${reason})` };
}

/** States in which the session can take input right now. */
export function acceptsInput(status: ConnectionStatus): boolean {
  return status.state === 'connected' || status.state === 'asleep' || status.state === 'waking';
}

/** What a failed relay call tells the status bar: the relay's code, details and HTTP status, or that it could not be reached. */
export function connectionErrorFrom(error: unknown): ConnectionError {
  if (error instanceof SandboxError) {
    return { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}), ...(error.status ? { httpStatus: error.status } : {}) };
  }
  return { code: 'NETWORK', message: error instanceof Error ? error.message : String(error) };
}

/** The error a promise rejects with for an error reported as a status: the SDK's `SandboxError` for relay codes. */
export function sandboxErrorFrom(error: ConnectionError): Error {
  if (error.code === 'NETWORK') return new Error(describeError(error));
  const payload = { code: error.code as SandboxError['code'], message: error.message, ...(error.details ? { details: error.details } : {}) };
  return new SandboxError(payload, error.httpStatus);
}

/** The developer's view of an error, for the status bar's tooltip: the code and the relay's own words. */
export function errorDetail(status: ConnectionStatus): string {
  return status.error ? `${status.error.code}: ${status.error.message}` : status.message;
}
