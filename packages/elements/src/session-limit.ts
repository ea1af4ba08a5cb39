import { SandboxError, type SessionInfo } from '@sandbox-terminal/client';

/**
 * A session nobody views that has done nothing for this long may be closed to make room for a new one. Sleeping and
 * exited sessions qualify at once: nothing runs in them.
 */
export const IDLE_SESSION_AGE_MS = 60 * 60 * 1000;

/** The relay refused a new session because the sandbox has as many as it may (`sessionsPerSandbox`). */
export function isSessionLimit(error: unknown): boolean {
  return error instanceof SandboxError && error.code === 'LIMIT_EXCEEDED' && error.details?.limit === 'sessionsPerSandbox';
}

/** Sessions that can be closed without cutting anyone off: no viewer, and asleep, exited or long idle. */
export function idleSessions(sessions: readonly SessionInfo[], now = Date.now()): SessionInfo[] {
  return sessions
    .filter((session) => session.viewers === 0)
    .filter((session) => session.status !== 'active' || now - Date.parse(session.lastActiveAt) >= IDLE_SESSION_AGE_MS)
    .sort((a, b) => Date.parse(a.lastActiveAt) - Date.parse(b.lastActiveAt));
}

/**
 * The session to open instead of a new one: not exited, not already shown here (`exclude`), nobody else viewing it
 * if possible, the most recently active first.
 */
export function reusableSession(sessions: readonly SessionInfo[], exclude: ReadonlySet<string> = new Set()): SessionInfo | undefined {
  const candidates = sessions
    .filter((session) => session.status !== 'exited' && !exclude.has(session.id))
    .sort((a, b) => Number(a.viewers > 0) - Number(b.viewers > 0) || Date.parse(b.lastActiveAt) - Date.parse(a.lastActiveAt));
  return candidates[0];
}

/** What a page can offer when the sandbox is full: how many sessions it may close, and which one it may reuse. */
export interface SessionLimitOffer {
  idle: string[];
  reusable: string | undefined;
}

export function sessionLimitOffer(sessions: readonly SessionInfo[], exclude?: ReadonlySet<string>): SessionLimitOffer {
  return { idle: idleSessions(sessions).map((session) => session.id), reusable: reusableSession(sessions, exclude)?.id };
}
