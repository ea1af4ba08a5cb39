import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import { ResumingClient } from './resume-client.ts';
import { TerminalClient, startRelay, waitFor } from './helpers.ts';

const env = await startRelay();
after(() => env.close());

/** The exact bytes a command's output becomes on the terminal: the PTY turns each \n into \r\n. */
function onTerminal(text: string): string {
  return text.replace(/\n/g, '\r\n');
}

function seqOutput(from: number, to: number): string {
  let text = '';
  for (let n = from; n <= to; n++) text += `${n}\n`;
  return text;
}

describe('resume by cursor', () => {
  it('20 MiB with 20 dropped connections arrives byte-exact: no gap, no duplicate', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const url = sandbox.terminalUrl(session);
    const steady = new ResumingClient(url);
    const dropping = new ResumingClient(url);
    await steady.connect();
    await dropping.connect();
    // The shell computes the marker, so the echo of the typed command line never matches it.
    const base = Date.now();
    const marker = `done-${base + 1}`;
    // seq, then lines whose multi-byte characters land on every possible chunk boundary.
    steady.type(`seq 1 2400000; for i in $(seq 1 60000); do printf 'é😀世界%d\\n' $i; done; echo done-$((${base} + 1))\r`);
    let drops = 0;
    for (; drops < 20; drops++) {
      // Drop at a different point each time: after a pseudo-random 300-900 KB more output.
      const dropAt = dropping.receivedBytes() + 300_000 + ((drops * 7919) % 600_000);
      await waitFor(() => dropping.receivedBytes() > dropAt, `output before drop ${drops + 1}`, 60_000);
      dropping.drop();
      await dropping.connect();
    }
    await waitFor(() => dropping.tail().includes(`${marker}\r\n`) && steady.tail().includes(`${marker}\r\n`), 'both clients to get everything', 120_000);
    assert.equal(drops, 20);
    assert.equal(dropping.screensAfterStart, 0, 'every reconnect resumed from its cursor');
    assert.ok(dropping.controls.filter((message) => message.type === 'ready' && message.resumed).length >= 20);
    // Both clients hold the same bytes for the same positions.
    const from = Math.max(steady.firstPosition!, dropping.firstPosition!);
    const steadyBytes = Buffer.concat(steady.received).subarray(from - steady.firstPosition!);
    const droppingBytes = Buffer.concat(dropping.received).subarray(from - dropping.firstPosition!);
    const common = Math.min(steadyBytes.length, droppingBytes.length);
    assert.ok(common > 20 * 1024 * 1024, `compared ${common} bytes`);
    assert.ok(steadyBytes.subarray(0, common).equals(droppingBytes.subarray(0, common)), 'identical bytes at identical positions');
    // And they are the program's output, exactly.
    const text = dropping.text();
    assert.ok(text.includes(onTerminal(seqOutput(1, 2400000))), 'seq output intact');
    let utf8 = '';
    for (let i = 1; i <= 60000; i++) utf8 += `é😀世界${i}\n`;
    assert.ok(text.includes(onTerminal(utf8)), 'UTF-8 lines intact');
    steady.close();
    dropping.close();
  });

  it('a cursor that left the output log gets truncated and the screen instead of a half replay', async () => {
    const small = await startRelay({ limits: { outputLogBytes: 64 * 1024 } });
    try {
      const sandbox = small.sandbox();
      const session = await sandbox.createSession();
      const client = new ResumingClient(sandbox.terminalUrl(session));
      await client.connect();
      client.type('echo first-screen | tr a-z A-Z\r');
      await waitFor(() => client.text().includes('FIRST-SCREEN\r\n'), 'output');
      const cursor = client.cursor!;
      client.drop();
      await sandbox.exec('seq 1 100000 > /dev/null; seq 1 30000; clear; echo after-the-flood', { session });
      client.cursor = cursor;
      await client.connect();
      const truncated = await waitFor(() => client.controls.find((message) => message.type === 'truncated'), 'truncated');
      assert.equal(truncated.type === 'truncated' && truncated.requested, cursor);
      // The screen may stand at a position before the end (the mirror parses lazily): the output log's bytes after
      // it follow in output frames, so the last line is on the screen once they have arrived, not with `truncated`.
      await waitFor(async () => /after-the-flood/.test(await client.screen()), 'the screen, then the output after its position');
      assert.equal(client.screensAfterStart, 1, 'one screen, no replay from the stale cursor');
      const rows = (await client.screen()).split('\r\n');
      assert.ok(!rows.some((row) => /^\d+$/.test(row)), `the flood before \`clear\` is gone from the screen: ${rows.slice(0, 3).join(' | ')}`);
      client.close();
    } finally {
      await small.close();
    }
  });
});

describe('screen restore', () => {
  it('a new viewer of a running less sees exactly the screen of the viewer that was there all along', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    await sandbox.exec('seq 1 500 | sed "s/^/line /" > /workspace/long.txt');
    const watcher = new ResumingClient(sandbox.terminalUrl(session));
    await watcher.connect();
    watcher.type('less /workspace/long.txt\r');
    await waitFor(() => watcher.text().includes('line 20'), 'less to draw');
    watcher.type('40g');
    await waitFor(async () => (await watcher.screen()).includes('line 40'), 'less to scroll');
    const late = new ResumingClient(sandbox.terminalUrl(session));
    await late.connect();
    await waitFor(() => late.controls.some((message) => message.type === 'screen'), 'the screen');
    const watched = await watcher.screen();
    assert.equal(late.term.buffer.active.type, 'alternate', 'less runs on the alternate screen');
    assert.equal(await late.screen(), watched);
    watcher.type('q');
    // Less leaves the alternate screen, then bash draws its prompt in a write (and a frame) of its own: a screen
    // without 'line 40' may not have the prompt yet. Compared once both show the prompt, nothing more is coming.
    const promptBack = (screen: string) => !screen.includes('line 40') && /long\.txt\r\n[^\r\n]*# /.test(screen);
    await waitFor(async () => promptBack(await late.screen()) && promptBack(await watcher.screen()), 'less to quit and the prompt to come back, for both');
    assert.equal(await late.screen(), await watcher.screen());
    watcher.close();
    late.close();
  });

  it('after a relay restart, a viewer gets the saved screen, a marker line and a new prompt', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-screen-'));
    try {
      const first = await startRelay({ dataDir });
      const sandbox = first.sandbox('screen-box');
      const session = await sandbox.createSession({ id: 'kept-screen' });
      const viewer = new ResumingClient(sandbox.terminalUrl(session));
      await viewer.connect();
      viewer.type('echo written-before-restart | tr a-z A-Z\r');
      await waitFor(() => viewer.text().includes('WRITTEN-BEFORE-RESTART\r\n'), 'output');
      viewer.close();
      await first.close();
      const second = await startRelay({ dataDir });
      try {
        const again = second.sandbox('screen-box');
        const late = new ResumingClient(again.terminalUrl('kept-screen'));
        await late.connect();
        // The notice says why: the relay that ran the session stopped, not that the sandbox slept.
        await waitFor(async () => /the relay restarted: session restored in \/workspace[^]*# $/.test((await late.screen()).replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').trimEnd() + ' '), 'marker and prompt', 15_000);
        const screen = await late.screen();
        assert.ok(screen.includes('WRITTEN-BEFORE-RESTART'));
        assert.ok(screen.indexOf('WRITTEN-BEFORE-RESTART') < screen.indexOf('the relay restarted'));
        late.close();
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('flow control', () => {
  it('Ctrl-C stops a flood and the prompt comes back; the shell goes on', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const client = new ResumingClient(sandbox.terminalUrl(session));
    await client.connect();
    client.type('yes flood-line\r');
    await waitFor(() => client.receivedBytes() > 5 * 1024 * 1024, 'a flood', 30_000);
    client.type('\x03');
    client.type('echo after-$((20+22))\r');
    await waitFor(() => client.tail().includes('after-42\r\n'), 'the shell to answer after Ctrl-C', 20_000);
    client.close();
  });

  it('one slow viewer does not hold back a fast one, and ends with the correct screen', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const fast = new ResumingClient(sandbox.terminalUrl(session), false);
    const slow = new ResumingClient(sandbox.terminalUrl(session));
    await fast.connect();
    await slow.connect();
    await waitFor(() => slow.rendered !== undefined, 'the slow viewer to ack once');
    slow.acking = false; // a frozen tab: it stops acknowledging what it renders
    fast.type('seq 1 3000000; echo flood-$((4+5))-finished\r');
    await waitFor(() => fast.tail().includes('flood-9-finished\r\n'), 'the fast viewer to get everything', 60_000);
    assert.ok(fast.totalReceived > 20 * 1024 * 1024, 'the fast viewer was not held back at the slow one\'s watermark');
    assert.equal(fast.screensAfterStart, 0, 'the fast viewer got every byte');
    slow.acking = true; // the tab wakes up
    slow.ack();
    await waitFor(() => slow.screensAfterStart >= 1, 'the slow viewer to be sent the screen', 30_000);
    fast.type('echo both-see-this | tr a-z A-Z\r');
    // Both live, and both past the prompt that follows: each viewer's frames are sent on their own schedule (the slow
    // one's batcher may still be holding the prompt), so screens are compared once the shell is quiet again.
    const atPromptAfterIt = (client: ResumingClient) => /BOTH-SEE-THIS\r\n.*[#$] (\x1b\[\?2004h)?$/s.test(client.tail());
    await waitFor(() => atPromptAfterIt(slow) && atPromptAfterIt(fast) && slow.cursor === fast.cursor, 'both viewers to be live at the prompt');
    assert.equal(await slow.screen(), await fast.screen());
    fast.close();
    slow.close();
  });

  it('an acknowledgement older than one already received is ignored: it cannot make the viewer look behind', async () => {
    const small = await startRelay({ limits: { flowHighWatermarkBytes: 64 * 1024, flowLowWatermarkBytes: 16 * 1024 } });
    try {
      const sandbox = small.sandbox();
      const session = await sandbox.createSession();
      const client = new ResumingClient(sandbox.terminalUrl(session));
      await client.connect();
      client.type('seq 1 50000; echo acked-$((3*3))-all\r');
      await waitFor(() => client.tail().includes('acked-9-all\r\n'), 'the output, acknowledged as it renders', 30_000);
      await waitFor(() => client.rendered === client.cursor, 'every byte rendered and acknowledged');
      assert.ok(client.cursor! > 4 * 64 * 1024, 'far more output than the window has been acknowledged');
      // An ack from long ago arrives late (it was in flight across a screen restore, say): taken as is, the viewer
      // would be ~300 KiB behind, over the 64 KiB window, and the PTY would pause with nothing coming to resume it.
      client.acking = false;
      client.ws!.send(JSON.stringify({ type: 'ack', position: 0 }));
      client.type('echo still-$((6*7))-flowing\r');
      await waitFor(() => client.tail().includes('still-42-flowing\r\n'), 'the shell to answer', 10_000);
      client.close();
    } finally {
      await small.close();
    }
  });

  it('a client that stops reading is cut off with close code 4429, and the session goes on', async () => {
    const quick = await startRelay({ limits: { slowViewerGraceMs: 200, stalledViewerCloseMs: 1000, flowHighWatermarkBytes: 64 * 1024, flowLowWatermarkBytes: 16 * 1024 } });
    try {
      const sandbox = quick.sandbox();
      const session = await sandbox.createSession();
      const reader = await TerminalClient.open(sandbox, session);
      const stalled = new WebSocket(sandbox.terminalUrl(session), ['sandbox-terminal.v1']);
      await new Promise((resolve) => stalled.once('open', resolve));
      let closeCode: number | undefined;
      stalled.once('close', (code) => (closeCode = code));
      // Stop reading from the socket: the relay's send buffer for it fills up.
      (stalled as unknown as { _socket: { pause(): void } })._socket.pause();
      reader.type('seq 1 2000000; echo stalled-$((2*3))-done\r');
      await reader.waitForOutput('stalled-6-done', 60_000);
      // The relay gives up on it (its close frame waits behind the backlog the client never read)…
      await waitFor(async () => (await sandbox.getSession(session)).viewers === 1, 'the relay to drop the stalled viewer', 20_000);
      // …and once the client reads again, it finds the reason at the end of its stream.
      (stalled as unknown as { _socket: { resume(): void } })._socket.resume();
      await waitFor(() => closeCode, 'the close frame', 20_000);
      assert.equal(closeCode, 4429);
      reader.type('echo still-serving | tr a-z A-Z\r');
      await reader.waitForOutput('STILL-SERVING\r\n');
      reader.close();
    } finally {
      await quick.close();
    }
  });
});

describe('Cloudflare Sandbox SDK v0.x compatibility', () => {
  it('a client without our subprotocol gets binary output, ready/exit/error frames, and its resize works', async () => {
    const sandbox = env.sandbox();
    const session = await sandbox.createSession();
    const ws = new WebSocket(sandbox.terminalUrl(session)); // no subprotocol: a v0.x client
    ws.binaryType = 'arraybuffer';
    const frames: Array<{ type: string; [key: string]: unknown }> = [];
    let output = '';
    ws.on('message', (data: ArrayBuffer | Buffer, isBinary) => {
      if (isBinary) output += Buffer.from(data as ArrayBuffer).toString();
      else frames.push(JSON.parse(data.toString()));
    });
    await new Promise((resolve) => ws.once('open', resolve));
    await waitFor(() => frames.some((frame) => frame.type === 'ready'), 'ready');
    assert.equal(ws.protocol, '');
    ws.send(JSON.stringify({ type: 'resize', cols: 91, rows: 27 }));
    ws.send(new TextEncoder().encode('stty size; echo compat-$((3*3))\r'));
    await waitFor(() => output.includes('27 91') && output.includes('compat-9'), 'output');
    ws.send(new TextEncoder().encode('exit 5\r'));
    const exit = await waitFor(() => frames.find((frame) => frame.type === 'exit'), 'exit');
    assert.equal(exit.code, 5);
    assert.deepEqual(frames.map((frame) => frame.type).filter((type) => !['ready', 'exit', 'error'].includes(type)), [], 'only frames a v0.x client knows');
    ws.close();
  });
});
