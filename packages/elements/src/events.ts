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

/** `session-recreated`: the sandbox had been asleep and the session was started again with its cwd and env. */
export interface SessionRecreatedDetail {
  sessionId: string;
  cwd: string;
  restoredEnv: string[];
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
