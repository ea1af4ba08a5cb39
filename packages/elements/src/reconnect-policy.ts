/** Backoff between reconnection attempts: `min * grow^(attempt-1)`, capped at `max`, plus up to `jitter` of that. */
export interface ReconnectPolicy {
  minDelayMs: number;
  maxDelayMs: number;
  growFactor: number;
  /** Fraction of the backoff added at random, so many viewers cut off at once do not return in lockstep. */
  jitterRatio: number;
  /** A handshake that takes longer than this is abandoned and retried. */
  connectTimeoutMs: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = {
  minDelayMs: 500,
  maxDelayMs: 10_000,
  growFactor: 1.6,
  jitterRatio: 0.5,
  connectTimeoutMs: 8_000,
};
