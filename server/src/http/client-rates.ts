import { MessageRate } from '../terminal/message-rate.ts';

/** An address not seen for this long is forgotten, so the table is only as big as the set of recent clients. */
const FORGET_AFTER_MS = 60_000;

/**
 * `httpRequestsPerSecond` per client address: one token bucket (the terminal's `MessageRate`) per address, the
 * whole burst allowed at once. Behind a reverse proxy every client has the proxy's address: raise the limit or turn
 * it off (0) and limit at the proxy.
 */
export class ClientRates {
  readonly #buckets = new Map<string, { rate: MessageRate; seenAt: number }>();
  #sweptAt = performance.now();

  constructor(private readonly perSecond: number) {}

  /** True when a request from `address` may go on now. */
  take(address: string): boolean {
    if (this.perSecond <= 0) return true;
    const now = performance.now();
    if (now - this.#sweptAt > FORGET_AFTER_MS) this.#sweep(now);
    let entry = this.#buckets.get(address);
    if (!entry) this.#buckets.set(address, (entry = { rate: new MessageRate(this.perSecond), seenAt: now }));
    entry.seenAt = now;
    return entry.rate.take();
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [address, entry] of this.#buckets) if (now - entry.seenAt > FORGET_AFTER_MS) this.#buckets.delete(address);
  }
}
