// The elements' named limits, each with its default: keys held before the first attach (typeahead.ts), the wait for
// a persist-key's lock (named-lock.ts), and which sessions a full sandbox may close (session-limit.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionInfo } from '@sandbox-terminal/client';
import { NAMED_LOCK_WAIT_MS, withNamedLock } from '../../packages/elements/src/named-lock.ts';
import { IDLE_SESSION_AGE_MS, idleSessions, reusableSession } from '../../packages/elements/src/session-limit.ts';
import { TYPEAHEAD_BYTES, TYPEAHEAD_MS, TypeaheadBuffer } from '../../packages/elements/src/typeahead.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('typeahead (TYPEAHEAD_MS, TYPEAHEAD_BYTES)', () => {
  it('defaults: 5 s and 64 KiB', () => {
    assert.equal(TYPEAHEAD_MS, 5_000);
    assert.equal(TYPEAHEAD_BYTES, 64 * 1024);
  });

  it('keys typed within the window are handed over in order', () => {
    const buffer = new TypeaheadBuffer();
    assert.equal(buffer.push(bytes('ls'), 0), true);
    assert.equal(buffer.push(bytes(' -la\r'), 100), true);
    const held = buffer.take(TYPEAHEAD_MS - 1)!;
    assert.equal(new TextDecoder().decode(Buffer.concat(held)), 'ls -la\r');
    assert.equal(buffer.pending, false);
  });

  it('keys older than the window are not sent (the caller says so)', () => {
    const buffer = new TypeaheadBuffer();
    buffer.push(bytes('rm -rf build\r'), 0);
    assert.equal(buffer.take(TYPEAHEAD_MS + 1), undefined);
  });

  it('more than TYPEAHEAD_BYTES is refused, and none of it is sent', () => {
    const buffer = new TypeaheadBuffer();
    assert.equal(buffer.push(new Uint8Array(TYPEAHEAD_BYTES), 0), true);
    assert.equal(buffer.push(bytes('x'), 1), false);
    assert.equal(buffer.pending, true);
    assert.equal(buffer.take(2), undefined);
  });
});

describe('withNamedLock (NAMED_LOCK_WAIT_MS), without the Web Locks API', () => {
  it('default: 10 s', () => assert.equal(NAMED_LOCK_WAIT_MS, 10_000));

  it('work under the same name runs one after the other', async () => {
    const order: string[] = [];
    const slow = withNamedLock('key', async () => {
      order.push('a start');
      await new Promise((resolve) => setTimeout(resolve, 50));
      order.push('a end');
    });
    const next = withNamedLock('key', async () => void order.push('b'));
    await Promise.all([slow, next]);
    assert.deepEqual(order, ['a start', 'a end', 'b']);
  });

  it('a holder that never lets go is waited for only so long', async () => {
    void withNamedLock('stuck', () => new Promise(() => undefined), 30);
    const started = performance.now();
    assert.equal(await withNamedLock('stuck', async () => 'ran', 30), 'ran');
    assert.ok(performance.now() - started < 1_000);
  });
});

describe('a full sandbox (IDLE_SESSION_AGE_MS)', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  const session = (id: string, fields: Partial<SessionInfo>): SessionInfo => ({
    id, sandboxId: 's', status: 'active', cwd: '/workspace', createdAt: '', lastActiveAt: new Date(now).toISOString(), viewers: 0, cols: 80, rows: 24, ...fields,
  });

  it('default: one hour', () => assert.equal(IDLE_SESSION_AGE_MS, 60 * 60 * 1000));

  it('closes only sessions nobody views that sleep, exited, or did nothing for the hour', () => {
    const sessions = [
      session('viewed-old', { viewers: 1, lastActiveAt: new Date(now - 2 * IDLE_SESSION_AGE_MS).toISOString() }),
      session('busy-recent', { lastActiveAt: new Date(now - IDLE_SESSION_AGE_MS + 1000).toISOString() }),
      session('idle-old', { lastActiveAt: new Date(now - IDLE_SESSION_AGE_MS).toISOString() }),
      session('asleep', { status: 'sleeping' }),
      session('exited', { status: 'exited' }),
    ];
    assert.deepEqual(idleSessions(sessions, now).map((s) => s.id).sort(), ['asleep', 'exited', 'idle-old']);
  });

  it('offers the most recent session nobody else views, never an exited one', () => {
    const sessions = [
      session('viewed', { viewers: 2, lastActiveAt: new Date(now).toISOString() }),
      session('older', { lastActiveAt: new Date(now - 5000).toISOString() }),
      session('newer', { lastActiveAt: new Date(now - 1000).toISOString() }),
      session('gone', { status: 'exited', lastActiveAt: new Date(now).toISOString() }),
    ];
    assert.equal(reusableSession(sessions)?.id, 'newer');
    assert.equal(reusableSession(sessions, new Set(['newer', 'older']))?.id, 'viewed');
  });
});
