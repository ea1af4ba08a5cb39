import type { Logger } from 'pino';
import type { ClaimAnswer, LeaseOwner, LeaseStore } from './lease-store.ts';

/** Why a relay stopped holding a lease it had not released: another relay holds it now, or no renewal got through in time. */
export type LeaseLoss = 'taken' | 'unconfirmed';

/**
 * The leases this relay holds, renewed while it holds them. A lease is trusted until `sandboxLeaseMs` after the last
 * renewal Redis confirmed, counted from when that renewal was *sent* (Redis starts its TTL later, so this errs on the
 * safe side); past that, nothing is written for the sandbox (`holds` is false) until a renewal gets through again. A
 * renewal that finds the lease expired but taken by nobody takes it again (a stalled relay, a busy host); one that
 * finds another relay holding it, or none that gets through for a whole period (Redis unreachable), loses it, and the
 * caller must stop the sandbox at once, without saving anything (fencing).
 */
export class SandboxLeases {
  /** Sandbox id → when the last confirmed claim or renewal was sent (performance.now()). */
  readonly #held = new Map<string, number>();
  readonly #renewal: NodeJS.Timeout;
  #renewing = false;

  constructor(
    private readonly store: LeaseStore,
    readonly self: LeaseOwner,
    readonly leaseMs: number,
    private readonly lost: (sandboxId: string, why: LeaseLoss) => void,
    private readonly log: Logger,
  ) {
    // Three renewals per lease period: one may fail (a slow Redis, a busy event loop) and the lease still holds.
    this.#renewal = setInterval(() => void this.#renewAll(), Math.max(50, Math.floor(leaseMs / 3)));
    this.#renewal.unref();
  }

  get count(): number {
    return this.#held.size;
  }

  /** True while this relay holds the sandbox's lease and its last renewal is recent enough to trust. */
  holds(sandboxId: string): boolean {
    const confirmedAt = this.#held.get(sandboxId);
    return confirmedAt !== undefined && performance.now() - confirmedAt < this.leaseMs;
  }

  /** Takes the lease if nobody holds it (atomically), renews it if this relay does, or names the relay that does. */
  async claim(sandboxId: string): Promise<ClaimAnswer> {
    const sentAt = performance.now();
    const answer = await this.store.claim(sandboxId, this.self, this.leaseMs);
    if (answer.mine) this.#held.set(sandboxId, sentAt);
    return answer;
  }

  /** Lets go of a lease (the sandbox is asleep and unused here); if Redis cannot be told, the lease just expires. */
  async release(sandboxId: string): Promise<void> {
    if (!this.#held.delete(sandboxId)) return;
    await this.store.release(sandboxId, this.self).catch((error: unknown) => this.log.warn({ err: error, sandbox: sandboxId }, 'could not release a sandbox lease; it expires by itself'));
  }

  owner(sandboxId: string): Promise<LeaseOwner | undefined> {
    return this.store.owner(sandboxId);
  }

  async #renewAll(): Promise<void> {
    // A renewal still waiting for Redis: the leases it could not confirm in time are lost meanwhile.
    if (this.#renewing) return this.#expireUnconfirmed();
    if (!this.#held.size) return;
    this.#renewing = true;
    const ids = [...this.#held.keys()];
    const sentAt = performance.now();
    try {
      const lost = new Set(await this.store.renew(ids, this.self, this.leaseMs));
      for (const id of ids) {
        if (!this.#held.has(id)) continue; // released meanwhile
        if (lost.has(id)) this.#lose(id, 'taken');
        else this.#held.set(id, sentAt);
      }
    } catch (error) {
      this.log.warn({ err: error, leases: ids.length }, 'could not renew sandbox leases');
      this.#expireUnconfirmed();
    } finally {
      this.#renewing = false;
    }
  }

  /** Redis could not be asked: a lease not confirmed for a whole period may be another relay's by now. */
  #expireUnconfirmed(): void {
    const now = performance.now();
    for (const [id, confirmedAt] of this.#held) if (now - confirmedAt >= this.leaseMs) this.#lose(id, 'unconfirmed');
  }

  #lose(sandboxId: string, why: LeaseLoss): void {
    this.#held.delete(sandboxId);
    this.log.warn({ sandbox: sandboxId, why }, 'lost the lease of a running sandbox: stopping it here');
    this.lost(sandboxId, why);
  }

  /** Stops renewing. Leases still held expire by themselves; `release` them first for a clean hand-over. */
  stop(): void {
    clearInterval(this.#renewal);
  }

  /** Every sandbox whose lease this relay holds. */
  heldIds(): string[] {
    return [...this.#held.keys()];
  }
}
