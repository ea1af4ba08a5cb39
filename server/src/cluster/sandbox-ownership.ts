import type { Logger } from 'pino';
import { RelayError } from '../errors.ts';
import type { LeaseOwner } from './lease-store.ts';
import type { LeaseLoss, SandboxLeases } from './sandbox-leases.ts';

/** What holds a sandbox on this relay: a call being served, a terminal attached, or the sandbox running. */
export type HoldKind = 'request' | 'viewer' | 'running';

/** One use of a sandbox on this relay; `release` it exactly once when the use ends (later calls do nothing). */
export interface SandboxHold {
  release(): void;
}

/** Where a sandbox is served: here (with a hold), or by the relay that holds its lease. */
export type Placement = { hold: SandboxHold } | { owner: LeaseOwner };

/** What the relay does when this relay stops owning a sandbox. */
export interface OwnershipHost {
  /** Nothing uses the sandbox here any more: make sure what it saved has reached the registry, then forget it. */
  forget(sandboxId: string): Promise<void>;
  /** The lease is gone while the sandbox may run: stop it at once and forget it, writing nothing. */
  abandon(sandboxId: string, why: LeaseLoss): Promise<void>;
}

/**
 * Which sandboxes this relay owns. A sandbox is owned while something uses it here (a call, a terminal, its running
 * processes); the first use claims the lease, the last one to end lets go of it once the sandbox's records are saved,
 * and the in-memory sandbox is forgotten, so that a later use here reads the registry afresh (another relay may have
 * run the sandbox in between). A sleeping sandbox that nobody watches has no owner; whichever relay wakes it next
 * takes the lease. Calls for a sandbox another relay holds are forwarded there (`Placement.owner`).
 */
export class SandboxOwnership {
  readonly #holds = new Map<string, Map<HoldKind, number>>();
  /** Hand-overs in progress (forget, then release): a new use of the sandbox waits for its end. */
  readonly #releasing = new Map<string, Promise<void>>();
  #draining = false;
  /** While draining, hand-overs wait for `handOverAll` (the relay saves everything first, then lets go of everything). */
  readonly #deferred = new Set<string>();

  constructor(
    readonly leases: SandboxLeases,
    private readonly host: OwnershipHost,
    private readonly log: Logger,
    private readonly onTakeover: (previous: LeaseOwner) => void,
  ) {}

  /** Serves here (claiming the lease if nobody holds it) or names the owner. SHUTTING_DOWN while the relay drains. */
  async place(sandboxId: string, kind: HoldKind): Promise<Placement> {
    for (;;) {
      const releasing = this.#releasing.get(sandboxId);
      if (releasing) {
        await releasing;
        continue;
      }
      if (this.#held(sandboxId) && this.leases.holds(sandboxId)) {
        if (this.#draining && kind !== 'running') throw draining();
        return { hold: this.#hold(sandboxId, kind) };
      }
      if (this.#draining) throw draining();
      const answer = await this.leases.claim(sandboxId);
      if (!answer.mine) return { owner: answer.owner };
      // A hand-over may have started while Redis answered (the last hold ended): take the lease again after it.
      if (this.#releasing.has(sandboxId)) continue;
      if (answer.takeover) {
        this.onTakeover(answer.takeover);
        this.log.info({ sandbox: sandboxId, previous: answer.takeover.url }, 'took over a sandbox whose relay did not let go of it');
      }
      return { hold: this.#hold(sandboxId, kind) };
    }
  }

  /** True while this relay may write the sandbox's records (it holds a lease it can trust). */
  owns(sandboxId: string): boolean {
    return this.leases.holds(sandboxId);
  }

  /** Calls being served here right now (a drain waits for them). */
  get requestsInFlight(): number {
    let count = 0;
    for (const holds of this.#holds.values()) count += holds.get('request') ?? 0;
    return count;
  }

  /** From now on new uses are refused (SHUTTING_DOWN); the running ones end as they will. */
  drain(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Resolves once every hand-over that has started is done. */
  async settled(): Promise<void> {
    while (this.#releasing.size) await Promise.all(this.#releasing.values());
  }

  /** Closing, once every sandbox is asleep and saved: hands over every sandbox still owned here, and waits. */
  async handOverAll(): Promise<void> {
    const ids = new Set([...this.#deferred, ...this.#holds.keys(), ...this.leases.heldIds()]);
    this.#deferred.clear();
    for (const id of ids) if (!this.#releasing.has(id)) this.#handOver(id);
    await this.settled();
  }

  /** The lease is gone (see SandboxLeases): stop the sandbox here. Its holds end as their calls and sockets do. */
  lost(sandboxId: string, why: LeaseLoss): void {
    void this.host.abandon(sandboxId, why).catch((error: unknown) => this.log.error({ err: error, sandbox: sandboxId }, 'could not stop a sandbox whose lease was lost'));
  }

  #held(sandboxId: string): boolean {
    return this.#holds.has(sandboxId);
  }

  #hold(sandboxId: string, kind: HoldKind): SandboxHold {
    let holds = this.#holds.get(sandboxId);
    if (!holds) this.#holds.set(sandboxId, (holds = new Map()));
    holds.set(kind, (holds.get(kind) ?? 0) + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (holds.get(kind) ?? 1) - 1;
        if (left > 0) holds.set(kind, left);
        else holds.delete(kind);
        if (holds.size !== 0 || this.#holds.get(sandboxId) !== holds) return;
        if (!this.#draining) return this.#handOver(sandboxId);
        this.#holds.delete(sandboxId);
        this.#deferred.add(sandboxId);
      },
    };
  }

  /** The last use ended: save, forget, then let go of the lease, in that order, so the next owner reads what was saved. */
  #handOver(sandboxId: string): void {
    this.#holds.delete(sandboxId);
    const handOver = (async () => {
      try {
        await this.host.forget(sandboxId);
      } catch (error) {
        this.log.error({ err: error, sandbox: sandboxId }, 'could not hand a sandbox over cleanly (its last records may not be saved)');
      }
      await this.leases.release(sandboxId);
    })().finally(() => this.#releasing.delete(sandboxId));
    this.#releasing.set(sandboxId, handOver);
  }
}

function draining(): RelayError {
  return new RelayError('SHUTTING_DOWN', 'the relay is shutting down');
}
