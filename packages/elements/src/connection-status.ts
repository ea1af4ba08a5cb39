import type { AttachMode } from '@sandbox-terminal/protocol';

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
  /** The socket dropped; partysocket is trying again with backoff. */
  | 'reconnecting'
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

export interface ConnectionStatus {
  state: ConnectionState;
  /** The sentence shown to the user. */
  message: string;
  /** `reconnecting`: which attempt this is, from 1. */
  attempt?: number;
  /** `connected`: how the relay attached the session. */
  mode?: AttachMode;
  /** `connected` after the sandbox had been asleep: the working directory the session was restored in. */
  restoredCwd?: string;
  /** `exited`: the shell's exit code and the signal that killed it, if any. */
  exitCode?: number;
  signal?: number | null;
  /** `error`: the relay's error code (`SESSION_NOT_FOUND`, …) and message. */
  error?: { code: string; message: string };
  /** The user typed while nothing could receive it; the input was not sent. */
  inputDropped?: boolean;
}

const INPUT_NOT_SENT = 'not connected: input not sent';

export const statuses = {
  idle: (message = 'no session'): ConnectionStatus => ({ state: 'idle', message }),
  connecting: (message = 'connecting…'): ConnectionStatus => ({ state: 'connecting', message }),
  connected: (mode: AttachMode, restoredCwd?: string): ConnectionStatus =>
    restoredCwd === undefined
      ? { state: 'connected', mode, message: 'connected' }
      : { state: 'connected', mode, restoredCwd, message: `sandbox was asleep: session restored in ${restoredCwd}` },
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
  error: (code: string, message: string): ConnectionStatus => ({
    state: 'error',
    error: { code, message },
    message: `error: ${message}`,
  }),
  closed: (): ConnectionStatus => ({ state: 'closed', message: 'disconnected' }),
};

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
