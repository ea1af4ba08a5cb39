import { limitExceeded } from '../errors.ts';

/**
 * Upload bytes in flight, relay-wide and per client address: each upload reserves what it may write (its
 * Content-Length, or the file limit when it sends none) before a byte is read, and gives it back when it ends. Uploads
 * stream to disk, so this bounds disk traffic and open temporary files, not memory; one client cannot take every slot.
 */
export class UploadBudget {
  #total = 0;
  readonly #byClient = new Map<string, number>();

  constructor(
    private readonly relayBytes: number,
    private readonly clientBytes: number,
  ) {}

  /** Reserves `bytes` for `client`; LIMIT_EXCEEDED (nothing reserved) when either budget would be passed. */
  reserve(client: string, bytes: number): () => void {
    const mine = this.#byClient.get(client) ?? 0;
    if (mine + bytes > this.clientBytes) {
      throw limitExceeded('uploadBytesInFlightPerClient', this.clientBytes, `this address already uploads ${mine} bytes; at most ${this.clientBytes} may be in flight at once: try again when one finishes`);
    }
    if (this.#total + bytes > this.relayBytes) {
      throw limitExceeded('uploadBytesInFlight', this.relayBytes, `the relay already takes ${this.#total} bytes of uploads; at most ${this.relayBytes} at once: try again shortly`);
    }
    this.#total += bytes;
    this.#byClient.set(client, mine + bytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total -= bytes;
      const left = (this.#byClient.get(client) ?? bytes) - bytes;
      if (left > 0) this.#byClient.set(client, left);
      else this.#byClient.delete(client);
    };
  }

  get bytesInFlight(): number {
    return this.#total;
  }
}
