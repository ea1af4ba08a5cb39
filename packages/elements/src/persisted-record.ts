/**
 * What a page remembers in `localStorage` under a `persist-key`, so a reload reattaches to the same shells.
 * Each record carries an expiry; an expired or unreadable record is treated as absent and removed.
 */

/** How long a remembered session id is kept after the page last used it. */
export const PERSISTED_SESSION_TTL_MS = 24 * 60 * 60 * 1000;

const STORAGE_PREFIX = 'sandbox-terminal:';

interface Stored<T> {
  /** Which relay and sandbox the ids belong to: the same key on another sandbox must not reuse them. */
  scope: string;
  expiresAt: number;
  value: T;
}

export class PersistedRecord<T> {
  readonly #storageKey: string;
  readonly #scope: string;
  readonly #isValue: (value: unknown) => value is T;

  constructor(kind: string, persistKey: string, scope: { relay: string; sandbox: string }, isValue: (value: unknown) => value is T) {
    this.#storageKey = `${STORAGE_PREFIX}${kind}:${persistKey}`;
    this.#scope = `${scope.relay.replace(/\/+$/, '')} ${scope.sandbox}`;
    this.#isValue = isValue;
  }

  /** Names this record (and the relay and sandbox it is for) for a lock shared by every element and browser tab. */
  get lockName(): string {
    return `${this.#storageKey} ${this.#scope}`;
  }

  read(now = Date.now()): T | undefined {
    const raw = safeStorage()?.getItem(this.#storageKey);
    if (!raw) return undefined;
    try {
      const stored = JSON.parse(raw) as Partial<Stored<unknown>>;
      if (stored.scope === this.#scope && typeof stored.expiresAt === 'number' && stored.expiresAt > now && this.#isValue(stored.value)) {
        return stored.value;
      }
    } catch {
      // unreadable: dropped below
    }
    this.clear();
    return undefined;
  }

  /** Stores the value and restarts its expiry. */
  write(value: T, now = Date.now()): void {
    const stored: Stored<T> = { scope: this.#scope, expiresAt: now + PERSISTED_SESSION_TTL_MS, value };
    try {
      safeStorage()?.setItem(this.#storageKey, JSON.stringify(stored));
    } catch {
      // Storage full or refused (private mode): the page still works, it just will not reattach after a reload.
    }
  }

  clear(): void {
    safeStorage()?.removeItem(this.#storageKey);
  }
}

/** `localStorage` throws on access in some sandboxed iframes and privacy modes. */
function safeStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function isSessionRef(value: unknown): value is { sessionId: string } {
  return typeof value === 'object' && value !== null && typeof (value as { sessionId?: unknown }).sessionId === 'string';
}
