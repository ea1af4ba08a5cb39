import type { RecreationReason } from '@sandbox-terminal/protocol';
import type { ConnectionStatus } from './connection-status.ts';

/** `status-change`: the connection's status changed (see `ConnectionStatus`). */
export interface StatusChangeDetail {
  status: ConnectionStatus;
}

/** `session-created`: a new session was created on the relay for this element. */
export interface SessionCreatedDetail {
  sessionId: string;
  sandbox: string;
  /** Set when a remembered session (`persist-key`) was gone and this one replaces it. */
  replaces?: string;
}

/** `session-recreated`: the session's shell was started again under the same id, with its cwd and env. */
export interface SessionRecreatedDetail {
  sessionId: string;
  cwd: string;
  restoredEnv: string[];
  /** Why: the sandbox slept, the relay restarted, or the sandbox was stopped (see `RecreationReason`). */
  reason: RecreationReason;
}

/** `exit`: the session's shell ended. */
export interface ExitDetail {
  sessionId: string;
  exitCode: number;
  signal: number | null;
}

/** `title-change`: the shell set the window title (OSC 0 / OSC 2). */
export interface TitleChangeDetail {
  title: string;
}

/** `cwd-change`: the shell reported a new working directory at its prompt (OSC 7). */
export interface CwdChangeDetail {
  cwd: string;
}

/** `command-change`: a command typed in the terminal started (`command`, as read from the screen) or ended (absent). */
export interface CommandChangeDetail {
  command?: string;
}

/** `tab-change`: `<session-tabs>` switched to another tab. */
export interface TabChangeDetail {
  sessionId: string;
  index: number;
}

/** `session-closed`: `<session-tabs>` ended a session because its tab was closed. */
export interface SessionClosedDetail {
  sessionId: string;
}

declare global {
  interface HTMLElementEventMap {
    'status-change': CustomEvent<StatusChangeDetail>;
    'session-created': CustomEvent<SessionCreatedDetail>;
    'session-recreated': CustomEvent<SessionRecreatedDetail>;
    exit: CustomEvent<ExitDetail>;
    'title-change': CustomEvent<TitleChangeDetail>;
    'cwd-change': CustomEvent<CwdChangeDetail>;
    'command-change': CustomEvent<CommandChangeDetail>;
    'tab-change': CustomEvent<TabChangeDetail>;
    'session-closed': CustomEvent<SessionClosedDetail>;
  }
}

/** The events both elements fire: bubbling and composed, so a page can listen on any ancestor. */
export function emit<K extends keyof HTMLElementEventMap>(
  target: EventTarget,
  type: K,
  detail: HTMLElementEventMap[K] extends CustomEvent<infer D> ? D : never,
): void {
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}
