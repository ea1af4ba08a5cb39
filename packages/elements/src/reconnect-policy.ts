/**
 * When to try again after the connection dropped. The first attempt after a connection that had been up goes at
 * once (after up to `firstDelayMs`, at random): a network blip or a relay restart is usually over, and the user is
 * waiting. If that fails, attempt n waits `min * grow^(n-2)`, capped at `max`, plus up to `jitterRatio` of that.
 */
export interface ReconnectPolicy {
  /** The first attempt waits a random time up to this: enough to spread many viewers cut off at once. */
  firstDelayMs: number;
  minDelayMs: number;
  maxDelayMs: number;
  growFactor: number;
  /** Fraction of the backoff added at random, so many viewers cut off at once do not return in lockstep. */
  jitterRatio: number;
  /** A handshake that takes longer than this is abandoned and retried. */
  connectTimeoutMs: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = {
  firstDelayMs: 150,
  minDelayMs: 500,
  maxDelayMs: 10_000,
  growFactor: 1.6,
  jitterRatio: 0.5,
  connectTimeoutMs: 8_000,
};

/**
 * How long attempt `retry` (1 = the first since the connection was last up) waits. `random` is in [0, 1).
 * A policy with `minDelayMs: 0` and no jitter retries at once every time.
 */
export function reconnectDelayMs(policy: ReconnectPolicy, retry: number, random: number): number {
  if (retry <= 1) return Math.min(policy.firstDelayMs, policy.minDelayMs) * random;
  const backoff = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.growFactor ** (retry - 2));
  return backoff * (1 + policy.jitterRatio * random);
}
