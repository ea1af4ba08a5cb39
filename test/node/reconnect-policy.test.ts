import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RECONNECT_POLICY, reconnectDelayMs } from '../../packages/elements/src/reconnect-policy.ts';

describe('reconnect policy', () => {
  const policy = DEFAULT_RECONNECT_POLICY;

  it('the first attempt after a drop waits at most firstDelayMs, spread at random', () => {
    assert.equal(reconnectDelayMs(policy, 1, 0), 0);
    assert.ok(reconnectDelayMs(policy, 1, 0.999) < policy.firstDelayMs);
    assert.ok(reconnectDelayMs(policy, 1, 0.5) > 0);
  });

  it('later attempts back off from minDelayMs by growFactor, with jitter, up to maxDelayMs', () => {
    assert.equal(reconnectDelayMs(policy, 2, 0), policy.minDelayMs);
    assert.equal(reconnectDelayMs(policy, 3, 0), policy.minDelayMs * policy.growFactor);
    assert.equal(reconnectDelayMs(policy, 2, 0.999_999), policy.minDelayMs * (1 + policy.jitterRatio * 0.999_999));
    assert.equal(reconnectDelayMs(policy, 100, 0), policy.maxDelayMs);
    assert.ok(reconnectDelayMs(policy, 100, 0.999) <= policy.maxDelayMs * (1 + policy.jitterRatio));
  });

  it('minDelayMs 0 without jitter retries at once, every time', () => {
    const immediate = { ...policy, minDelayMs: 0, jitterRatio: 0 };
    for (const retry of [1, 2, 5, 30]) assert.equal(reconnectDelayMs(immediate, retry, 0.7), 0);
  });
});
