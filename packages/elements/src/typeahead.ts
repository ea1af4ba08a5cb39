/**
 * Keys typed into a terminal whose first connection is not up yet (the session is still being created, the socket
 * still opening) are held at most this long, then dropped, and the user is told: a local terminal holds keys typed
 * before its shell starts, but a command must not run long after it was typed.
 */
export const TYPEAHEAD_MS = 5_000;
/** …and at most this many bytes of them (a paste larger than that is not held; it is dropped and the user is told). */
export const TYPEAHEAD_BYTES = 64 * 1024;

/** Input typed before a terminal's first attach, in order, within `TYPEAHEAD_MS` and `TYPEAHEAD_BYTES`. */
export class TypeaheadBuffer {
  #chunks: Array<Uint8Array<ArrayBuffer>> = [];
  #bytes = 0;
  #firstAt: number | undefined;
  #overflowed = false;

  /** Holds `bytes`; false when they did not fit (the user must be told that input was dropped). */
  push(bytes: Uint8Array<ArrayBuffer>, now = performance.now()): boolean {
    if (this.expired(now)) this.clear();
    if (this.#overflowed || this.#bytes + bytes.byteLength > TYPEAHEAD_BYTES) {
      this.#overflowed = true;
      return false;
    }
    this.#firstAt ??= now;
    this.#chunks.push(bytes);
    this.#bytes += bytes.byteLength;
    return true;
  }

  /** True when something is held, or was dropped for size: there is something to send or to say. */
  get pending(): boolean {
    return this.#chunks.length > 0 || this.#overflowed;
  }

  /** The oldest held key is older than `TYPEAHEAD_MS`. */
  expired(now = performance.now()): boolean {
    return this.#firstAt !== undefined && now - this.#firstAt > TYPEAHEAD_MS;
  }

  /**
   * Everything held, to send now, and empties the buffer; undefined when it was too old or too big to send (the
   * user must be told it was not sent).
   */
  take(now = performance.now()): Array<Uint8Array<ArrayBuffer>> | undefined {
    const usable = !this.expired(now) && !this.#overflowed;
    const chunks = this.#chunks;
    this.clear();
    return usable ? chunks : undefined;
  }

  clear(): void {
    this.#chunks = [];
    this.#bytes = 0;
    this.#firstAt = undefined;
    this.#overflowed = false;
  }
}
