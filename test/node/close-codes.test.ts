import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { UnisolatedBackend, type SandboxBackend } from '@sandbox-terminal/server';
import { ERROR_BY_CLOSE_CODE, TERMINAL_CLOSE_CODES, closeCodeForError } from '@sandbox-terminal/protocol';
import { RelayDialect } from '../../packages/elements/src/dialects/relay-dialect.ts';
import { TerminalClient, startRelay, waitFor } from './helpers.ts';

describe('terminal close codes', () => {
  it('each error an attach can end with has its own close code, which a client reads back as that error', () => {
    const codes = ['SESSION_NOT_FOUND', 'UNAUTHORIZED', 'FORBIDDEN', 'LIMIT_EXCEEDED', 'SHUTTING_DOWN', 'SANDBOX_START_FAILED', 'SANDBOX_UNAVAILABLE'] as const;
    const closeCodes = codes.map((code) => closeCodeForError(code));
    assert.equal(new Set(closeCodes).size, codes.length, 'no two errors share a close code');
    for (const [index, code] of codes.entries()) assert.equal(ERROR_BY_CLOSE_CODE.get(closeCodes[index]!), code);
    assert.equal(closeCodeForError('INTERNAL'), TERMINAL_CLOSE_CODES.BAD_REQUEST);
  });

  it('the element reconnects after a sandbox moved relays or the relay went away, and stops after a start failure', () => {
    const dialect = new RelayDialect({ terminalUrl: () => 'ws://relay/terminal', terminalProtocols: () => [] }, 'session');
    assert.deepEqual(dialect.closed(TERMINAL_CLOSE_CODES.SANDBOX_UNAVAILABLE, 'sandbox moved to another relay'), { kind: 'retry' });
    assert.deepEqual(dialect.closed(TERMINAL_CLOSE_CODES.SHUTTING_DOWN, 'relay shutting down'), { kind: 'retry' });
    const startFailed = dialect.closed(TERMINAL_CLOSE_CODES.SANDBOX_START_FAILED, 'the sandbox could not be started');
    assert.equal(startFailed.kind, 'final');
    assert.equal(startFailed.kind === 'final' && startFailed.error.code, 'SANDBOX_START_FAILED');
  });
});

describe('an attach whose sandbox cannot be woken', async () => {
  let refuseStarts = false;
  const flaky: SandboxBackend = {
    name: 'flaky',
    isolated: false,
    start: (spec) => (refuseStarts ? Promise.reject(new Error('the host is out of sandboxes')) : new UnisolatedBackend().start(spec)),
  };
  const env = await startRelay({ backend: flaky, idleTimeoutMs: 1_000 });
  after(() => env.close());

  it('is told SANDBOX_START_FAILED and closed with its code (4500), not as a bad request', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    await waitFor(async () => (await sandbox.getSession(session)).status === 'sleeping', 'the session to sleep');
    refuseStarts = true;
    const viewer = new TerminalClient(sandbox.terminalUrl(session));
    const error = await viewer.waitForControl('error');
    assert.equal(error.code, 'SANDBOX_START_FAILED');
    assert.equal(await viewer.waitForClose(), TERMINAL_CLOSE_CODES.SANDBOX_START_FAILED);
    refuseStarts = false;
    const again = await TerminalClient.open(sandbox, session);
    again.type('echo woke-$((6*7))\r');
    await again.waitForOutput('woke-42');
    again.close();
  });
});
