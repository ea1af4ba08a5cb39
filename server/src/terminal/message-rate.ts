/** How often a connection over its message rate is told so: one error per this many ms, the rest dropped quietly. */
export const RATE_ERROR_INTERVAL_MS = 1_000;

/**
 * A token bucket per terminal connection: `perSecond` tokens, refilled continuously at `perSecond` a second, one
 * per message. Bounds how much work one client can queue on the relay (every frame is parsed and ordered) without
 * hurting a fast typist or a paste, which arrive as few large frames.
 */
export class MessageRate {
  #tokens: number;
  #refilledAt = performance.now();
  #lastRefusalReportAt = -Infinity;

  constructor(private readonly perSecond: number) {
    this.#tokens = perSecond;
  }

  /** Takes a token: true when the message may go on. */
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.perSecond, this.#tokens + ((now - this.#refilledAt) / 1000) * this.perSecond);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** After a refusal: true when the client should be told (at most once per RATE_ERROR_INTERVAL_MS). */
  shouldReport(): boolean {
    const now = performance.now();
    if (now - this.#lastRefusalReportAt < RATE_ERROR_INTERVAL_MS) return false;
    this.#lastRefusalReportAt = now;
    return true;
  }
}
