// What the status bar says (packages/elements/src/connection-status.ts): one module, every sentence.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeError, statuses, withInputDropped } from '../../packages/elements/src/connection-status.ts';

describe('connection status sentences', () => {
  it('a restored session says why it had to be restored', () => {
    assert.equal(statuses.connected('recreated', { cwd: '/workspace/a', reason: 'slept' }).message, 'sandbox was asleep: session restored in /workspace/a');
    const restarted = statuses.connected('recreated', { cwd: '/workspace/a', reason: 'relay-restarted' });
    assert.match(restarted.message, /^the relay restarted: session restored in \/workspace\/a/);
    assert.doesNotMatch(restarted.message, /asleep/);
    assert.equal(restarted.recreationReason, 'relay-restarted');
    assert.match(statuses.connected('recreated', { cwd: '/w', reason: 'sandbox-stopped' }).message, /^the sandbox had stopped/);
    const failedOver = statuses.connected('recreated', { cwd: '/workspace/b', reason: 'relay-failed-over' });
    assert.equal(failedOver.message, 'the relay running this session stopped, another took over: session restored in /workspace/b (programs that were running have stopped)');
    assert.match(statuses.connected('recreated', { cwd: '/w', reason: undefined }).message, /^session restored in \/w/);
  });

  it('after an outage, connected says the relay is back', () => {
    assert.equal(statuses.connected('attached', undefined, { afterOutage: true }).message, 'connected: the relay is reachable again');
    assert.equal(statuses.connected('attached').message, 'connected');
  });

  it('errors are sentences; the code stays for developers', () => {
    const proxy = statuses.error({ code: 'INTERNAL', message: 'relay answered HTTP 502', httpStatus: 502 });
    assert.equal(proxy.message, 'the relay is not answering (HTTP 502 from the server in front of it)');
    assert.equal(proxy.error?.code, 'INTERNAL');
    const full = statuses.error({ code: 'LIMIT_EXCEEDED', message: 'sandbox demo already has 64 sessions', details: { limit: 'sessionsPerSandbox', value: 64 } });
    assert.equal(full.message, 'this sandbox already has 64 sessions, the most it may have');
    assert.equal(describeError({ code: 'NETWORK', message: 'Failed to fetch' }), 'cannot reach the relay: check the connection, or whether the relay is running');
    assert.doesNotMatch(describeError({ code: 'SESSION_NOT_FOUND', message: 'session x not found' }), /SESSION_NOT_FOUND/);
    assert.equal(describeError({ code: 'SANDBOX_UNAVAILABLE', message: 'x', httpStatus: 503 }), 'the relay running this sandbox is not answering: try again in a moment');
  });

  it('unreachable counts its attempts, and dropped input is said on top of it', () => {
    const unreachable = statuses.unreachable(7);
    assert.equal(unreachable.message, 'cannot reach the relay: still trying (attempt 7)');
    assert.equal(withInputDropped(unreachable).message, 'cannot reach the relay: still trying (attempt 7) (not connected: input not sent)');
  });
});
