import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import { join } from 'node:path';
import type { SessionStatus } from '@sandbox-terminal/protocol';

/** What outlives a session's shell: enough to recreate it under the same id. */
export interface SessionRecord {
  id: string;
  sandboxId: string;
  status: SessionStatus;
  cwd: string;
  env: Record<string, string>;
  createdAt: string;
  exitCode?: number;
}

/**
 * Session records in a TTL key-value store (keyv): in memory by default, SQLite in the data dir when one is set,
 * so sessions survive a relay restart. A per-sandbox index lists its session ids.
 */
export class SessionRegistry {
  readonly #store: Keyv;
  readonly #ttlMs: number;
  /** Writes to one key are chained so a slow write never lands after a newer one. */
  readonly #writes = new Map<string, Promise<unknown>>();

  constructor(options: { dataDir?: string; ttlMs: number; store?: Keyv }) {
    this.#ttlMs = options.ttlMs;
    this.#store =
      options.store ??
      new Keyv({
        namespace: 'sandbox-terminal',
        ...(options.dataDir ? { store: new KeyvSqlite({ uri: `sqlite://${join(options.dataDir, 'sessions.sqlite')}` }) } : {}),
      });
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

function recordKey(sandboxId: string, sessionId: string): string {
  return `session:${sandboxId}:${sessionId}`;
}

function indexKey(sandboxId: string): string {
  return `sessions:${sandboxId}`;
}
