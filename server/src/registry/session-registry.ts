import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import KeyvRedis from '@keyv/redis';
import { join } from 'node:path';
import type { RecreationReason, SessionStatus } from '@sandbox-terminal/protocol';

/** What outlives a session's shell: enough to recreate it under the same id. */
export interface SessionRecord {
  id: string;
  sandboxId: string;
  status: SessionStatus;
  cwd: string;
  env: Record<string, string>;
  createdAt: string;
  exitCode?: number;
  /** The signal that killed the shell of an exited session. */
  exitSignal?: number;
  /**
   * Saved as asleep: why its next start is a recreation (`slept`, `relay-restarted` when the relay closing put it to
   * sleep, `sandbox-stopped`). A record still `active` when a relay loads it lost its relay: `relay-restarted`.
   */
  recreationReason?: RecreationReason;
  /** Several relays sharing Redis: the relay (its advertised URL) that ran the session last. */
  relay?: string;
  /** The screen (serialized) and its output position when the shell last stopped, so viewers resume from it. */
  screen?: { data: string; position: number };
  cols?: number;
  rows?: number;
}

/** A registry call that cannot reach Redis fails after this long instead of waiting for a reconnect. */
const REDIS_CONNECT_TIMEOUT_MS = 5_000;
const NAMESPACE = 'sandbox-terminal';

/**
 * Session records in a TTL key-value store (keyv): in memory by default, SQLite in the data dir when one is set,
 * so sessions survive a relay restart, or Redis, so several relays share them. A per-sandbox index lists its
 * session ids; it is updated read-modify-write, which is safe because one sandbox is served by one relay at a time
 * (with Redis, the relay holding its lease: cluster/sandbox-ownership.ts).
 */
export class SessionRegistry {
  readonly #store: Keyv;
  readonly #ttlMs: number;
  /** Where the records live, for the start-up log and `check()`'s message. */
  readonly kind: 'memory' | 'sqlite' | 'redis' | 'custom';
  readonly #redisUrl: string | undefined;
  /** Writes to one key are chained so a slow write never lands after a newer one. */
  readonly #writes = new Map<string, Promise<unknown>>();

  /** `redisUrl` wins over `dataDir`. */
  constructor(options: { dataDir?: string; redisUrl?: string; ttlMs: number; store?: Keyv }) {
    this.#ttlMs = options.ttlMs;
    this.#redisUrl = options.redisUrl;
    this.kind = options.store ? 'custom' : options.redisUrl ? 'redis' : options.dataDir ? 'sqlite' : 'memory';
    this.#store =
      options.store ??
      (options.redisUrl
        ? redisStore(options.redisUrl)
        : new Keyv({
            namespace: NAMESPACE,
            ...(options.dataDir ? { store: new KeyvSqlite({ uri: `sqlite://${join(options.dataDir, 'sessions.sqlite')}` }) } : {}),
          }));
  }

  /** Fails with a message naming the store when it cannot be used (Redis down, wrong URL), so a relay does not start half-working. */
  async check(): Promise<void> {
    // keyv-redis throws a generic "not connected"; the client's own error (ECONNREFUSED, NOAUTH…) comes as an event.
    let cause: unknown;
    const remember = (error: unknown) => (cause ??= error);
    this.#store.on('error', remember);
    try {
      await this.#store.get('registry-check');
    } catch (error) {
      const where = this.#redisUrl ? `Redis at ${redactPassword(this.#redisUrl)}` : this.kind;
      const reason = cause ?? error;
      throw new Error(`the session registry (${where}) is unreachable: ${reason instanceof Error ? reason.message : String(reason)}`);
    } finally {
      this.#store.off('error', remember);
    }
  }

  get(sandboxId: string, sessionId: string): Promise<SessionRecord | undefined> {
    return this.#store.get<SessionRecord>(recordKey(sandboxId, sessionId));
  }

  async put(record: SessionRecord): Promise<void> {
    const key = recordKey(record.sandboxId, record.id);
    await this.#serial(key, () => this.#store.set(key, record, this.#ttlMs));
    await this.#serial(indexKey(record.sandboxId), async () => {
      const ids = (await this.#store.get<string[]>(indexKey(record.sandboxId))) ?? [];
      if (!ids.includes(record.id)) ids.push(record.id);
      await this.#store.set(indexKey(record.sandboxId), ids, this.#ttlMs);
    });
  }

  async delete(sandboxId: string, sessionId: string): Promise<void> {
    await this.#serial(recordKey(sandboxId, sessionId), () => this.#store.delete(recordKey(sandboxId, sessionId)));
    await this.#serial(indexKey(sandboxId), async () => {
      const ids = (await this.#store.get<string[]>(indexKey(sandboxId))) ?? [];
      await this.#store.set(indexKey(sandboxId), ids.filter((id) => id !== sessionId), this.#ttlMs);
    });
  }

  /** Records of every session of a sandbox that has not expired. */
  async list(sandboxId: string): Promise<SessionRecord[]> {
    const ids = (await this.#store.get<string[]>(indexKey(sandboxId))) ?? [];
    const records = await Promise.all(ids.map((id) => this.get(sandboxId, id)));
    return records.filter((record): record is SessionRecord => record !== undefined);
  }

  /** Resolves once every write begun so far has landed (or failed): before another relay may read them. */
  async flush(): Promise<void> {
    await Promise.all([...this.#writes.values()].map((write) => write.catch(() => undefined)));
  }

  async close(): Promise<void> {
    await Promise.all(this.#writes.values());
    await this.#store.disconnect?.();
  }

  #serial<T>(key: string, write: () => Promise<T>): Promise<T> {
    const previous = this.#writes.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(write);
    this.#writes.set(key, next);
    void next.finally(() => {
      if (this.#writes.get(key) === next) this.#writes.delete(key);
    }).catch(() => undefined);
    return next;
  }
}

/**
 * Errors are thrown, not swallowed (keyv-redis's default turns a failed read into "not found", which would answer
 * SESSION_NOT_FOUND for a session that exists), and commands fail while disconnected instead of queueing forever.
 */
function redisStore(url: string): Keyv {
  const adapter = new KeyvRedis(
    { url, disableOfflineQueue: true, socket: { connectTimeout: REDIS_CONNECT_TIMEOUT_MS } },
    { namespace: NAMESPACE, throwOnConnectError: true, throwOnErrors: true, connectionTimeout: REDIS_CONNECT_TIMEOUT_MS },
  );
  return new Keyv({ store: adapter, namespace: NAMESPACE, useKeyPrefix: false, throwOnErrors: true });
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an unparsable URL';
  }
}

function recordKey(sandboxId: string, sessionId: string): string {
  return `session:${sandboxId}:${sessionId}`;
}

function indexKey(sandboxId: string): string {
  return `sessions:${sandboxId}`;
}
