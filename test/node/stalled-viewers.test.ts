import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TERMINAL_CLOSE_CODES, TERMINAL_SUBPROTOCOL, parseServerControl } from '@sandbox-terminal/protocol';
import WebSocket from 'ws';
import { startRelay, waitFor } from './helpers.ts';

const GRACE_MS = 300;
const CLOSE_MS = 2_000;
const env = await startRelay({ limits: { slowViewerGraceMs: GRACE_MS, stalledViewerCloseMs: CLOSE_MS, execOutputBytes: 1024 * 1024 } });
after(() => env.close());

/** A viewer that counts positions and acknowledges every 100 ms, as the element does; no rendering. */
class AckingViewer {
  position = 0;
  received = 0;
  tail = '';
  /** Longest time between two output frames once output flowed. */
  longestGapMs = 0;
  readonly ws: WebSocket;
  #lastFrameAt: number | undefined;
  readonly #acks: NodeJS.Timeout;

  constructor(url: string) {
    this.ws = new WebSocket(url, [TERMINAL_SUBPROTOCOL]);
    this.ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) {
        const message = parseServerControl(data.toString());
        if (message?.type === 'ready' || message?.type === 'screen') this.position = message.position;
        if (message?.type === 'screen') this.tail = message.data.slice(-1000);
        return;
      }
      const now = performance.now();
      if (this.#lastFrameAt !== undefined) this.longestGapMs = Math.max(this.longestGapMs, now - this.#lastFrameAt);
      this.#lastFrameAt = now;
      this.position += data.length;
      this.received += data.length;
      this.tail = (this.tail + data.toString('latin1')).slice(-1000);
    });
    this.#acks = setInterval(() => {
      if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify({ type: 'ack', position: this.position }));
    }, 100);
  }

  async opened(): Promise<void> {
    await new Promise((resolve) => this.ws.once('open', resolve));
    await waitFor(() => this.tail.length > 0, 'the first screen');
  }

  /** From now on, gaps are measured from the next frame. */
  startMeasuring(): void {
    this.#lastFrameAt = undefined;
    this.longestGapMs = 0;
  }

  close(): void {
    clearInterval(this.#acks);
    this.ws.close();
  }
}

/** A viewer that completes the handshake (and maybe acks once) and then stops reading its TCP socket. */
async function stalledViewer(url: string, acksOnce: boolean): Promise<{ ws: WebSocket; closeCode: () => number | undefined; received: () => number; resume(): void }> {
  const ws = new WebSocket(url, [TERMINAL_SUBPROTOCOL]);
  let position: number | undefined;
  let closeCode: number | undefined;
  let received = 0;
  ws.on('message', (data: Buffer, isBinary) => {
    received += data.length;
    if (isBinary) position = (position ?? 0) + data.length;
    else {
      const message = parseServerControl(data.toString());
      if (message?.type === 'ready' || message?.type === 'screen') position = message.position;
    }
  });
  ws.once('close', (code) => (closeCode = code));
  await new Promise((resolve) => ws.once('open', resolve));
  await waitFor(() => position !== undefined, 'ready');
  if (acksOnce) ws.send(JSON.stringify({ type: 'ack', position }));
  const socket = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  return { ws, closeCode: () => closeCode, received: () => received, resume: () => socket.resume() };
}

describe('a viewer that stops reading never freezes the others', () => {
  for (const order of ['stalled viewer first', 'typing viewer first'] as const) {
    for (const acksOnce of [false, true]) {
      for (const round of [1, 2]) {
        it(`${order}, stalled viewer ${acksOnce ? 'acked once' : 'never acked'} (round ${round}): the flood reaches the typing viewer, the stalled one gets 4429, exec answers`, async () => {
          const sandbox = env.sandbox();
          const session = await sandbox.createSession();
          const url = sandbox.terminalUrl(session);
          let typing: AckingViewer;
          let stalled: Awaited<ReturnType<typeof stalledViewer>>;
          if (order === 'stalled viewer first') {
            stalled = await stalledViewer(url, acksOnce);
            typing = new AckingViewer(url);
            await typing.opened();
          } else {
            typing = new AckingViewer(url);
            await typing.opened();
            stalled = await stalledViewer(url, acksOnce);
          }
          typing.startMeasuring();
          // ~40 MB of terminal output: far more than the kernel buffers a stalled socket can hide.
          typing.ws.send(Buffer.from('head -c 30000000 /dev/urandom | base64; echo flood-$((6*7))-done\r'));
          await waitFor(() => typing.tail.includes('flood-42-done'), 'the whole flood at the typing viewer', 40_000);
          // Held back for the grace at most, never until the stalled viewer is closed.
          assert.ok(typing.longestGapMs < CLOSE_MS, `the typing viewer waited ${Math.round(typing.longestGapMs)} ms for output`);
          await waitFor(async () => (await sandbox.getSession(session)).viewers === 1, 'the relay to drop the stalled viewer', CLOSE_MS * 4);
          stalled.resume();
          assert.equal(await waitFor(stalled.closeCode, 'the stalled viewer to read its close', 20_000), TERMINAL_CLOSE_CODES.TOO_SLOW);
          const result = await sandbox.exec('echo after-the-flood', { session, timeout: 10_000 });
          assert.deepEqual([result.stdout, result.timedOut], ['after-the-flood\n', false]);
          typing.close();
        });
      }
    }
  }
});

describe('exec output and a stalled viewer', () => {
  it('exec output is flow-controlled like PTY output: what the relay queues for a viewer that never reads stays bounded', async () => {
    const BACKLOG_BYTES = 4 * 1024 * 1024;
    const bounded = await startRelay({ limits: { slowViewerGraceMs: GRACE_MS, stalledViewerCloseMs: CLOSE_MS, execOutputBytes: 1024 * 1024, viewerBacklogBytes: BACKLOG_BYTES } });
    try {
      const sandbox = bounded.sandbox();
      const session = await sandbox.createSession();
      const stalled = await stalledViewer(sandbox.terminalUrl(session), false);
      // 120 MB of exec output (through the FIFOs, not the PTY) while the only viewer reads nothing.
      const result = await sandbox.exec('head -c 120000000 /dev/zero | tr "\\0" y | fold -w 100; echo exec-end', { session, timeout: 50_000 });
      assert.deepEqual([result.exitCode, result.truncated], [0, true]);
      assert.equal((await sandbox.getSession(session)).viewers, 0, 'the stalled viewer was closed');
      // Reading again, it gets what was queued for it, then the close: the backlog bound plus what the kernel's socket
      // buffers hold (a few MiB on loopback), not the 120 MB the command printed.
      stalled.resume();
      assert.equal(await waitFor(stalled.closeCode, 'the close', 20_000), TERMINAL_CLOSE_CODES.TOO_SLOW);
      const queuedMiB = stalled.received() / 2 ** 20;
      assert.ok(queuedMiB < BACKLOG_BYTES / 2 ** 20 + 12, `${queuedMiB.toFixed(1)} MiB were queued for a viewer that read nothing`);
    } finally {
      await bounded.close();
    }
  });
});
