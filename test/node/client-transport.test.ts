// The SDK's two transports (node:http, Node's default; fetch, the browsers' and `SandboxOptions.fetch`) against a real
// relay, and node:http's handling of kept-alive connections a server resets.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { getSandbox, SandboxError, type Sandbox } from '@sandbox-terminal/client';
import { startRelay } from './helpers.ts';

const env = await startRelay();
after(() => env.close());

const transports: Array<[string, (id: string) => Sandbox]> = [
  ['node:http', (id) => getSandbox(env.relay.url, id)],
  ['fetch', (id) => getSandbox(env.relay.url, id, { fetch: (input, init) => fetch(input, init) })],
];

for (const [name, sandboxFor] of transports) {
  describe(`client over ${name}`, () => {
    const sandbox = sandboxFor(`transport-${name.replace(':', '-')}`);

    it('round-trips every kind of call: JSON, bytes both ways, empty answers and typed errors', async () => {
      const session = await sandbox.createSession();
      const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
      await sandbox.writeFile('/workspace/t/bytes.bin', binary);
      assert.deepEqual(await sandbox.readFile('/workspace/t/bytes.bin', { encoding: 'binary' }), binary);
      await sandbox.writeFile('/workspace/t/text.txt', 'héllo ✓\n');
      assert.equal(await sandbox.readFile('/workspace/t/text.txt'), 'héllo ✓\n');
      const result = await sandbox.exec('cat /workspace/t/text.txt; echo oops >&2; exit 3', { session });
      assert.deepEqual([result.stdout, result.stderr, result.exitCode], ['héllo ✓\n', 'oops\n', 3]);
      await sandbox.deleteFile('/workspace/t/text.txt');
      assert.equal(await sandbox.exists('/workspace/t/text.txt'), false);
      await sandbox.deleteSession(session);
      await assert.rejects(sandbox.getSession(session), (error: SandboxError) => error.code === 'SESSION_NOT_FOUND' && error.status === 404);
    });

    it('an aborted exec rejects with AbortError, and the relay stops the command so the session runs the next one', { timeout: 30_000 }, async () => {
      const session = await sandbox.createSession();
      const controller = new AbortController();
      const running = sandbox.exec('echo started > /workspace/abort-marker; sleep 600', { session, signal: controller.signal });
      while (!(await sandbox.exists('/workspace/abort-marker'))) await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort();
      await assert.rejects(running, (error: Error) => error.name === 'AbortError');
      // Without the relay's cancel this would wait out the sleep (and the test's timeout).
      assert.equal((await sandbox.exec('echo next', { session })).stdout, 'next\n');
    });

    it('leaving an execStream loop early stops the command', { timeout: 30_000 }, async () => {
      const session = await sandbox.createSession();
      const seen: string[] = [];
      for await (const event of sandbox.execStream('echo first; sleep 600; echo never', { session })) {
        seen.push(event.type);
        if (event.type === 'stdout') break;
      }
      assert.deepEqual(seen, ['start', 'stdout']);
      assert.equal((await sandbox.exec('echo next', { session })).stdout, 'next\n');
    });
  });
}

/**
 * A bare HTTP/1.1 server: answers `{"sessions":[]}` with keep-alive, except that `resetOn(connection, request)`
 * (both counted from 1) resets the connection instead of answering.
 */
async function resettingServer(resetOn: (connection: number, request: number) => boolean) {
  let connections = 0;
  const requests: string[] = [];
  const server = createServer((socket: Socket) => {
    const connection = ++connections;
    let perConnection = 0;
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      // Requests here have no body or a small one with content-length: cut at the blank line plus that length.
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, headEnd))?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        requests.push(`${connection}:${buffered.slice(0, buffered.indexOf(' '))}`);
        buffered = buffered.slice(headEnd + 4 + length);
        if (resetOn(connection, ++perConnection)) {
          socket.resetAndDestroy();
          return;
        }
        const body = '{"sessions":[]}';
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`);
      }
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('node:http transport and kept-alive connections', () => {
  it('repeats an idempotent call once on a fresh connection when a reused one is reset before any answer', async () => {
    const server = await resettingServer((connection, request) => connection === 1 && request === 2);
    try {
      const sandbox = getSandbox(server.url, 'reset');
      assert.deepEqual(await sandbox.listSessions(), []);
      assert.deepEqual(await sandbox.listSessions(), []);
      assert.deepEqual(server.requests, ['1:GET', '1:GET', '2:GET']);
    } finally {
      await server.close();
    }
  });

  it('does not repeat a POST (it may have run): the reset reaches the caller', async () => {
    const server = await resettingServer((connection, request) => connection === 1 && request === 2);
    try {
      const sandbox = getSandbox(server.url, 'reset');
      await sandbox.listSessions();
      await assert.rejects(sandbox.exec('true', { session: 's' }), (error: NodeJS.ErrnoException) => error.code === 'ECONNRESET');
      assert.deepEqual(server.requests, ['1:GET', '1:POST']);
    } finally {
      await server.close();
    }
  });

  it('does not repeat a call whose fresh connection was reset', async () => {
    const server = await resettingServer((connection) => connection === 1);
    try {
      await assert.rejects(getSandbox(server.url, 'reset').listSessions(), (error: NodeJS.ErrnoException) => error.code === 'ECONNRESET');
      assert.deepEqual(server.requests, ['1:GET']);
    } finally {
      await server.close();
    }
  });
});
