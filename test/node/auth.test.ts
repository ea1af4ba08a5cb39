import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getSandbox, SandboxError, type Sandbox } from '@sandbox-terminal/client';
import { TERMINAL_CLOSE_CODES, TERMINAL_SUBPROTOCOL, type TokenScope } from '@sandbox-terminal/protocol';
import { issueToken } from '@sandbox-terminal/server';
import { TerminalClient, startRelay } from './helpers.ts';

const SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
const env = await startRelay({ secret: SECRET });
after(() => env.close());

const SANDBOX = `auth-${process.pid}`;
const OTHER_SANDBOX = `auth-other-${process.pid}`;

async function as(scope: TokenScope, options: { sandbox?: string; sessions?: string[]; expiresIn?: number } = {}): Promise<Sandbox> {
  const token = await issueToken({ secret: SECRET, sandbox: options.sandbox ?? SANDBOX, scope, expiresIn: options.expiresIn ?? 600, ...(options.sessions ? { sessions: options.sessions } : {}) });
  return getSandbox(env.relay.url, SANDBOX, { token });
}

async function refusal(call: Promise<unknown>): Promise<{ code: string; status: number | undefined }> {
  const error = await call.then(
    () => assert.fail('the call was allowed'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof SandboxError, `not a SandboxError: ${String(error)}`);
  return { code: error.code, status: error.status };
}

/** Opens a terminal with the SDK's subprotocols (token included) and waits for it to be ready. */
async function openTerminal(sandbox: Sandbox, session: string, query: { cols?: number; rows?: number } = {}): Promise<TerminalClient> {
  const terminal = new TerminalClient(sandbox.terminalUrl(session, query), await sandbox.terminalProtocols());
  await terminal.opened;
  await terminal.waitForControl('ready');
  await terminal.waitForPrompt();
  return terminal;
}

describe('auth with a relay secret', () => {
  let admin: Sandbox;
  let session: string;
  before(async () => {
    admin = await as('admin');
    session = await admin.createSession();
  });

  it('a call without a token is refused with 401 UNAUTHORIZED', async () => {
    assert.deepEqual(await refusal(getSandbox(env.relay.url, SANDBOX).listSessions()), { code: 'UNAUTHORIZED', status: 401 });
  });

  it('an expired token is refused with 401 UNAUTHORIZED', async () => {
    const expired = await as('admin', { expiresIn: -60 });
    assert.deepEqual(await refusal(expired.listSessions()), { code: 'UNAUTHORIZED', status: 401 });
  });

  it('a token signed with another secret is refused with 401', async () => {
    const token = await issueToken({ secret: `${SECRET}-but-another`, sandbox: SANDBOX, scope: 'admin', expiresIn: 600 });
    assert.deepEqual(await refusal(getSandbox(env.relay.url, SANDBOX, { token }).listSessions()), { code: 'UNAUTHORIZED', status: 401 });
  });

  it('a token for another sandbox can do nothing here: 403 FORBIDDEN', async () => {
    const other = await as('admin', { sandbox: OTHER_SANDBOX });
    assert.deepEqual(await refusal(other.listSessions()), { code: 'FORBIDDEN', status: 403 });
    assert.deepEqual(await refusal(other.exec('true')), { code: 'FORBIDDEN', status: 403 });
    assert.deepEqual(await refusal(other.readFile('/workspace/x')), { code: 'FORBIDDEN', status: 403 });
    assert.deepEqual(await refusal(other.deleteSession(session)), { code: 'FORBIDDEN', status: 403 });
  });

  it('a read token reads status, lists and files but cannot exec or change files', async () => {
    await admin.writeFile('/workspace/readable.txt', 'hello');
    const reader = await as('read');
    assert.equal((await reader.getSession(session)).id, session);
    assert.ok((await reader.listSessions()).some((info) => info.id === session));
    assert.equal(await reader.readFile('/workspace/readable.txt'), 'hello');
    assert.equal(await reader.exists('/workspace/readable.txt'), true);
    assert.ok((await reader.listFiles('/workspace')).some((entry) => entry.name === 'readable.txt'));
    assert.equal((await refusal(reader.exec('touch /workspace/by-reader', { session }))).code, 'FORBIDDEN');
    assert.equal((await refusal(reader.exec('touch /workspace/by-reader'))).code, 'FORBIDDEN');
    assert.equal((await refusal(reader.writeFile('/workspace/by-reader', 'x'))).code, 'FORBIDDEN');
    assert.equal((await refusal(reader.mkdir('/workspace/by-reader-dir'))).code, 'FORBIDDEN');
    assert.equal((await refusal(reader.deleteFile('/workspace/readable.txt'))).code, 'FORBIDDEN');
    assert.equal(await admin.exists('/workspace/by-reader'), false);
    assert.equal(await admin.exists('/workspace/readable.txt'), true);
  });

  it('a write token execs and writes files but cannot create, delete or restart sessions', async () => {
    const writer = await as('write');
    assert.equal((await writer.exec('echo written-$((1+2))', { session })).stdout, 'written-3\n');
    await writer.writeFile('/workspace/by-writer.txt', 'w');
    assert.equal(await admin.readFile('/workspace/by-writer.txt'), 'w');
    assert.equal((await refusal(writer.deleteSession(session))).code, 'FORBIDDEN');
    assert.equal((await refusal(writer.restartSession(session))).code, 'FORBIDDEN');
    assert.equal((await refusal(writer.createSession())).code, 'FORBIDDEN');
    assert.equal((await admin.getSession(session)).status, 'active');
  });

  it('an admin token creates, restarts and deletes sessions', async () => {
    const doomed = await admin.createSession();
    assert.equal((await admin.restartSession(doomed)).status, 'active');
    await admin.deleteSession(doomed);
    assert.equal((await refusal(admin.getSession(doomed))).code, 'SESSION_NOT_FOUND');
  });

  it('a token limited to some sessions cannot reach the others, nor run one-shot commands', async () => {
    const other = await admin.createSession();
    const limited = await as('write', { sessions: [session] });
    assert.equal((await limited.exec('echo mine', { session })).stdout, 'mine\n');
    assert.equal((await refusal(limited.exec('echo theirs', { session: other }))).code, 'FORBIDDEN');
    assert.equal((await refusal(limited.getSession(other))).code, 'FORBIDDEN');
    assert.equal((await refusal(limited.exec('echo one-shot'))).code, 'FORBIDDEN');
  });
});

describe('auth on the terminal WebSocket', () => {
  let admin: Sandbox;
  before(async () => {
    admin = await as('admin');
  });

  it('the token travels as a bearer.<token> subprotocol; the relay selects only sandbox-terminal.v1', async () => {
    const session = await admin.createSession();
    const writer = await as('write');
    const protocols = await writer.terminalProtocols();
    assert.equal(protocols.length, 2);
    assert.ok(protocols[1]!.startsWith('bearer.'));
    assert.ok(!writer.terminalUrl(session).includes(protocols[1]!.slice('bearer.'.length)), 'the token is not in the URL');
    const terminal = await openTerminal(writer, session);
    assert.equal(terminal.ws.protocol, TERMINAL_SUBPROTOCOL);
    terminal.type('echo typed-$((6*7))\r');
    await terminal.waitForOutput('typed-42');
    terminal.close();
  });

  it('a terminal without a token gets UNAUTHORIZED and close code 4401', async () => {
    const session = await admin.createSession();
    const terminal = new TerminalClient(getSandbox(env.relay.url, SANDBOX).terminalUrl(session));
    assert.equal((await terminal.waitForControl('error')).code, 'UNAUTHORIZED');
    assert.equal(await terminal.waitForClose(), TERMINAL_CLOSE_CODES.UNAUTHORIZED);
    assert.equal(terminal.controls.some((message) => message.type === 'ready'), false);
  });

  it('a terminal with a token for another sandbox gets FORBIDDEN and close code 4403', async () => {
    const session = await admin.createSession();
    const other = await as('admin', { sandbox: OTHER_SANDBOX });
    const terminal = new TerminalClient(getSandbox(env.relay.url, SANDBOX).terminalUrl(session), await other.terminalProtocols());
    assert.equal((await terminal.waitForControl('error')).code, 'FORBIDDEN');
    assert.equal(await terminal.waitForClose(), TERMINAL_CLOSE_CODES.FORBIDDEN);
  });

  it('a read token views the terminal but its keystrokes never reach the shell', async () => {
    const session = await admin.createSession();
    const viewer = await openTerminal(await as('read'), session);
    viewer.type('touch /workspace/typed-by-reader\r');
    const error = await viewer.waitForControl('error');
    assert.equal(error.code, 'FORBIDDEN');
    // An exec waits for the shell's prompt, after anything typed earlier; only then is the file's absence telling.
    const writer = await as('write');
    assert.equal((await writer.exec('echo after', { session })).stdout, 'after\n');
    assert.equal(await admin.exists('/workspace/typed-by-reader'), false);
    await viewer.waitForOutput('after');
    assert.equal(viewer.closeCode, undefined, 'the read-only viewer stays connected');
    viewer.close();
  });

  it('a read token cannot resize the terminal', async () => {
    const session = await admin.createSession();
    const writer = await openTerminal(await as('write'), session, { cols: 100, rows: 30 });
    const reader = await openTerminal(await as('read'), session);
    reader.control({ type: 'resize', cols: 50, rows: 20 });
    assert.equal((await reader.waitForControl('error')).code, 'FORBIDDEN');
    writer.type('stty size\r');
    await writer.waitForOutput('30 100');
    assert.equal(writer.output.includes('20 50'), false);
    writer.close();
    reader.close();
  });
});

describe('short-lived tokens through getToken', () => {
  /**
   * jose's `exp` is whole seconds, so a token for N seconds lives between N-1 and N: 2 leaves the first call at least
   * one second. The wait below must outlast it.
   */
  const TOKEN_LIFETIME_S = 2;

  it('getToken is asked before every call, so calls go on working after each earlier token has expired', async () => {
    const admin = await as('admin');
    const session = await admin.createSession();
    const issued: string[] = [];
    const fresh = getSandbox(env.relay.url, SANDBOX, {
      getToken: async () => {
        const token = await issueToken({ secret: SECRET, sandbox: SANDBOX, scope: 'write', expiresIn: TOKEN_LIFETIME_S });
        issued.push(token);
        return token;
      },
    });
    assert.equal((await fresh.exec('echo first', { session })).stdout, 'first\n');
    const pinned = getSandbox(env.relay.url, SANDBOX, { token: issued[0]! });
    await new Promise((resolve) => setTimeout(resolve, (TOKEN_LIFETIME_S + 1.2) * 1000));
    assert.deepEqual(await refusal(pinned.exec('echo pinned', { session })), { code: 'UNAUTHORIZED', status: 401 });
    assert.equal((await fresh.exec('echo second', { session })).stdout, 'second\n');
    assert.equal(issued.length, 2);
    // The terminal asks too: its subprotocol carries the newest token.
    const terminal = await openTerminal(fresh, session);
    terminal.type('echo via-$((40+2))\r');
    await terminal.waitForOutput('via-42');
    assert.equal(issued.length, 3);
    terminal.close();
  });

  it('a getToken that fails fails that call with its own error; the next call asks again', async () => {
    let calls = 0;
    const flaky = getSandbox(env.relay.url, SANDBOX, {
      getToken: () => {
        calls += 1;
        if (calls === 1) throw new Error('token service unavailable');
        return issueToken({ secret: SECRET, sandbox: SANDBOX, scope: 'read', expiresIn: 600 });
      },
    });
    await assert.rejects(flaky.listSessions(), /token service unavailable/);
    assert.ok(Array.isArray(await flaky.listSessions()));
    assert.equal(calls, 2);
  });
});
