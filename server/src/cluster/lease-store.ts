import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';

/** Who holds a lease: one relay process (`relay`, new each start) and the address other relays reach it at. */
export interface LeaseOwner {
  relay: string;
  url: string;
}

/** A claim either got the lease (and says whether it took it from a holder that never let go) or names the holder. */
export type ClaimAnswer = { mine: true; takeover: LeaseOwner | undefined } | { mine: false; owner: LeaseOwner };

/** Commands to Redis fail after this long instead of waiting for a reconnect: a lease is only as good as its last renewal. */
const REDIS_TIMEOUT_MS = 2_000;
const PREFIX = 'sandbox-terminal:';
/** What `lease-holder:<id>` says once its holder let go on purpose. */
const RELEASED = 'released';

// Each script runs atomically in Redis: no other client's command lands between its GET and its SET.

/** KEYS: lease, holder. ARGV: me, lease ms, holder ms. Returns [value now held, previous holder or false]. */
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {current, false}
end
if current then return {current, false} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local previous = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
return {ARGV[1], previous or false}`;

/**
 * KEYS: the leases to renew. ARGV: me, lease ms. Returns the 1-based indexes of those another relay holds now. A lease
 * that expired without anyone taking it (its holder was stalled past its period) is taken again: nobody else can have
 * run the sandbox, since running it starts with taking the lease.
 */
const RENEW = `
local lost = {}
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  if current == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2])
  elseif not current then redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
  else table.insert(lost, i) end
end
return lost`;

/** KEYS: lease, holder. ARGV: me, holder ms. Deletes the lease only if it is still mine. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '${RELEASED}', 'PX', ARGV[2])
  return 1
end
return 0`;

/**
 * The leases' home in Redis: `lease:<sandbox>` (the holder, with a TTL) and `lease-holder:<sandbox>` (the last holder,
 * or `released`, kept as long as session records, so a claim knows whether it takes over from a relay that died).
 */
export class LeaseStore {
  readonly #client;
  readonly #holderMs: number;

  constructor(redisUrl: string, holderMs: number) {
    this.#holderMs = holderMs;
    this.#client = createClient({
      url: redisUrl,
      disableOfflineQueue: true,
      socket: { connectTimeout: REDIS_TIMEOUT_MS, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000) },
      commandOptions: { timeout: REDIS_TIMEOUT_MS },
    });
    // Failures reach the caller of each command; the client's own error events would otherwise crash the process.
    this.#client.on('error', () => undefined);
  }

  async connect(): Promise<void> {
    await this.#client.connect();
  }

  async claim(sandboxId: string, me: LeaseOwner, leaseMs: number): Promise<ClaimAnswer> {
    const value = JSON.stringify(me);
    const reply = (await this.#client.eval(CLAIM, { keys: [leaseKey(sandboxId), holderKey(sandboxId)], arguments: [value, String(leaseMs), String(this.#holderMs)] })) as [string, string | null | false];
    const [held, previous] = reply;
    if (held !== value) return { mine: false, owner: parseOwner(held) };
    const takeover = typeof previous === 'string' && previous !== RELEASED ? parseOwner(previous) : undefined;
    return { mine: true, takeover };
  }

  /** Renews every lease named; returns the sandbox ids whose lease another relay holds now (or nobody). */
  async renew(sandboxIds: string[], me: LeaseOwner, leaseMs: number): Promise<string[]> {
    if (!sandboxIds.length) return [];
    const lost = (await this.#client.eval(RENEW, { keys: sandboxIds.map(leaseKey), arguments: [JSON.stringify(me), String(leaseMs)] })) as number[];
    return lost.map((index) => sandboxIds[index - 1]!);
  }

  async release(sandboxId: string, me: LeaseOwner): Promise<void> {
    await this.#client.eval(RELEASE, { keys: [leaseKey(sandboxId), holderKey(sandboxId)], arguments: [JSON.stringify(me), String(this.#holderMs)] });
  }

  /** Who holds the lease now, if anyone. */
  async owner(sandboxId: string): Promise<LeaseOwner | undefined> {
    const value = await this.#client.get(leaseKey(sandboxId));
    return value ? parseOwner(value) : undefined;
  }

  /** The cluster's key for signing forwarded calls: made by the first relay, read by every other (see hop-signature.ts). */
  async clusterKey(): Promise<Buffer> {
    await this.#client.set(`${PREFIX}cluster:hop-key`, randomBytes(32).toString('hex'), { condition: 'NX' });
    const key = await this.#client.get(`${PREFIX}cluster:hop-key`);
    if (!key) throw new Error('the cluster key vanished from Redis while it was read');
    return Buffer.from(key, 'hex');
  }

  async close(): Promise<void> {
    if (this.#client.isOpen) await this.#client.close();
  }
}

function leaseKey(sandboxId: string): string {
  return `${PREFIX}lease:${sandboxId}`;
}

function holderKey(sandboxId: string): string {
  return `${PREFIX}lease-holder:${sandboxId}`;
}

/** Values are written by relays only; one that is not ours reads as a holder nobody can reach (it expires). */
function parseOwner(value: string): LeaseOwner {
  try {
    const parsed = JSON.parse(value) as Partial<LeaseOwner>;
    if (typeof parsed.relay === 'string' && typeof parsed.url === 'string') return { relay: parsed.relay, url: parsed.url };
  } catch {
    // fall through
  }
  return { relay: 'unknown', url: '' };
}
