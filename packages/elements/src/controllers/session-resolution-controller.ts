import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { getSandbox, type Sandbox } from '@sandbox-terminal/client';
import { withNamedLock } from '../named-lock.ts';
import { isSessionRef, PersistedRecord } from '../persisted-record.ts';
import { sandboxOptionsFor, type RelayCredentials } from '../relay-auth.ts';

/** Which session a terminal should show. */
export interface SessionRequest {
  relay: string;
  sandbox: string;
  credentials: RelayCredentials;
  /** The `session` attribute: this one and no other. */
  session?: string | undefined;
  /** The session this element already shows (a reconnect after a configuration change keeps it). */
  known?: string | undefined;
  /** Remember the session in `localStorage` under this key (shared by every element with the key). */
  persistKey?: string | undefined;
  /** A remembered id that turned out to be gone: another one replaces it. */
  replacing?: string | undefined;
  /** The size a new session's PTY starts at. */
  size?: { cols: number; rows: number } | undefined;
  /** Called just before a session is created (so the page can say so). */
  onCreate?: () => void;
}

/** How the session was found: given, already shown, remembered (by this or another element), or created now. */
export type SessionOrigin = 'given' | 'known' | 'remembered' | 'created';

export interface ResolvedSession {
  sandbox: Sandbox;
  sessionId: string;
  origin: SessionOrigin;
}

export type SessionResolution =
  | { kind: 'resolved'; session: ResolvedSession }
  | { kind: 'failed'; sandbox: Sandbox; error: unknown }
  /** A newer request was made (or the element left the page) while this one ran: its result is dropped. */
  | { kind: 'stale' };

const STALE: SessionResolution = { kind: 'stale' };

/**
 * Finds the session a terminal shows, as Lit's Task runs a task: every `resolve` gets a call id, and a result that
 * comes back after a newer call (or after the host left the page) is reported as `stale`, so a slow `createSession`
 * can never attach an element to the session of a configuration it no longer has.
 *
 * With a `persist-key`, the look-up and the creation run under a lock named after the key (every element and tab of
 * the browser): the first creates the session and remembers it, the others find it remembered and reuse it.
 */
export class SessionResolutionController implements ReactiveController {
  #callId = 0;

  constructor(host: ReactiveControllerHost) {
    host.addController(this);
  }

  async resolve(request: SessionRequest): Promise<SessionResolution> {
    const callId = ++this.#callId;
    const sandbox = getSandbox(request.relay, request.sandbox, sandboxOptionsFor(request.credentials));
    try {
      const session = await this.#find(sandbox, request);
      return callId === this.#callId ? { kind: 'resolved', session } : STALE;
    } catch (error) {
      return callId === this.#callId ? { kind: 'failed', sandbox, error } : STALE;
    }
  }

  /**
   * The session when it needs no relay call (given, or already shown), as a resolution of its own: one under way is
   * dropped. Undefined when `resolve` must look it up or create it.
   */
  known(request: SessionRequest): ResolvedSession | undefined {
    const sandbox = getSandbox(request.relay, request.sandbox, sandboxOptionsFor(request.credentials));
    const known = this.#known(sandbox, request);
    if (known) this.#callId++;
    return known;
  }

  /** Whatever resolution is under way, its result is dropped. */
  abandon(): void {
    this.#callId++;
  }

  /** The record a `persist-key` keeps for this request, if it has one. */
  remembered(request: Pick<SessionRequest, 'relay' | 'sandbox' | 'session' | 'persistKey'>): PersistedRecord<{ sessionId: string }> | undefined {
    if (!request.persistKey || request.session) return undefined;
    return new PersistedRecord('session', request.persistKey, { relay: request.relay, sandbox: request.sandbox }, isSessionRef);
  }

  hostDisconnected(): void {
    this.abandon();
  }

  #known(sandbox: Sandbox, request: SessionRequest): ResolvedSession | undefined {
    if (request.session) return { sandbox, sessionId: request.session, origin: 'given' };
    if (request.known && request.known !== request.replacing) return { sandbox, sessionId: request.known, origin: 'known' };
    return undefined;
  }

  async #find(sandbox: Sandbox, request: SessionRequest): Promise<ResolvedSession> {
    const known = this.#known(sandbox, request);
    if (known) return known;
    const record = this.remembered(request);
    if (!record) return { sandbox, sessionId: await create(sandbox, request), origin: 'created' };
    return withNamedLock(record.lockName, async () => {
      const stored = record.read()?.sessionId;
      if (stored && stored !== request.replacing) return { sandbox, sessionId: stored, origin: 'remembered' as const };
      const sessionId = await create(sandbox, request);
      record.write({ sessionId });
      return { sandbox, sessionId, origin: 'created' as const };
    });
  }
}

function create(sandbox: Sandbox, request: SessionRequest): Promise<string> {
  request.onCreate?.();
  return sandbox.createSession(request.size ?? {});
}
