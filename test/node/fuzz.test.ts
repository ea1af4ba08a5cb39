import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { TERMINAL_SUBPROTOCOL } from '@sandbox-terminal/protocol';
import WebSocket from 'ws';
import { TerminalClient, startRelay, waitFor } from './helpers.ts';
import { seededRandom } from './seeded-random.ts';

const MESSAGE_BYTES = 64 * 1024;
const env = await startRelay({ limits: { terminalMessageBytes: MESSAGE_BYTES } });
after(() => env.close());

const SOCKETS = 6;
const FRAMES_PER_SOCKET = 1_000;
const MARKER_LINES = 2_000;
const FUZZ_DEADLINE_MS = 25_000;

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

/** One hostile frame: bad JSON, wrong types, huge numbers, unknown types, odd bytes. Binary frames never hold control characters, so nothing typed is ever run (no Enter, no Ctrl-D, no Escape). */
function hostileFrame(random: () => number): { data: string | Buffer; binary: boolean } {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const hugeNumber = pick([1e308, -1e308, 2 ** 53 + 1, -1, 0.5, Number.MAX_SAFE_INTEGER, 1e21]);
  switch (Math.floor(random() * 9)) {
    case 0:
      return { data: pick(['{', '{"type":', 'null', '[]', '"resize"', '{"type":"resize","cols":', '\u0000', '']), binary: false };
    case 1:
      return { data: JSON.stringify({ type: 'resize', cols: pick(['80', null, hugeNumber, {}, []]), rows: hugeNumber }), binary: false };
    case 2:
      return { data: JSON.stringify({ type: 'ack', position: hugeNumber }), binary: false };
    case 3:
      return { data: JSON.stringify({ type: pick(['input', 'exec', 'RESIZE', '__proto__', 'constructor', '']), data: 'rm -rf /\r' }), binary: false };
    case 4:
      return { data: `{"__proto__":{"type":"ping"},"constructor":{"prototype":{"polluted":true}}}`, binary: false };
    case 5:
      return { data: randomBytes(Math.floor(random() * 64)).toString('latin1'), binary: false };
    case 6: {
      // Truncated UTF-8 and printable bytes: input the shell's line editor just collects (Ctrl-U clears the line first).
      const bytes = [...randomBytes(1 + Math.floor(random() * 48))].map((byte) => (byte < 0x20 || byte === 0x7f ? 0x41 : byte));
      return { data: Buffer.from([0x15, ...bytes, ...pick([[0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3], []])]), binary: true };
    }
    case 7:
      return { data: JSON.stringify({ type: 'resize', cols: 2 + Math.floor(random() * 300), rows: 1 + Math.floor(random() * 100), extra: 1 }), binary: false };
    default:
      return { data: JSON.stringify({ type: 'ping' }), binary: false };
  }
}

describe('live fuzz', () => {
  it(`thousands of malformed frames (seed ${SEED}) leave the relay up, and a concurrent session loses no output`, { timeout: 60_000 }, async () => {
    const sandbox = env.sandbox();
    const marked = await sandbox.createSession();
    const target = await sandbox.createSession();
    const watcher = await TerminalClient.open(sandbox, marked);
    // Fuzz frames include `{"type":"input","data":"rm -rf /\r"}`: if any reached a shell as a command, this goes.
    await sandbox.writeFile('/workspace/canary', 'alive');

    const startedAt = Date.now();
    const random = seededRandom(SEED);
    let sent = 0;
    const closeCodes: number[] = [];
    const fuzzers = Array.from({ length: SOCKETS }, async (_, index) => {
      // Most sockets attack the target session; one each goes to an unknown session and to a bad path.
      const url =
        index === SOCKETS - 1 ? sandbox.terminalUrl('no-such-session')
        : index === SOCKETS - 2 ? sandbox.terminalUrl(target).replace('/terminal', '/terminal/%00')
        : sandbox.terminalUrl(target);
      const ws = new WebSocket(url, index % 2 ? [TERMINAL_SUBPROTOCOL] : []);
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        ws.once('open', () => resolve());
        ws.once('close', () => resolve());
      });
      for (let i = 0; i < FRAMES_PER_SOCKET && ws.readyState === ws.OPEN && Date.now() - startedAt < FUZZ_DEADLINE_MS; i++) {
        const frame = hostileFrame(random);
        ws.send(frame.data, { binary: frame.binary });
        sent++;
        if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      // One frame over terminalMessageBytes: ws closes that socket (1009), nothing else.
      if (index === 0 && ws.readyState === ws.OPEN) ws.send(Buffer.alloc(MESSAGE_BYTES + 1, 0x41), { binary: true });
      else ws.close();
      closeCodes.push(await closed);
    });

    // Meanwhile the marked session prints numbered lines, watched live and collected by exec.
    const marker = sandbox.exec(`for i in $(seq 1 ${MARKER_LINES}); do echo "mark-$i"; done`, { session: marked });
    await Promise.all(fuzzers);
    const result = await marker;

    assert.ok(sent >= 2_000, `only ${sent} frames were sent`);
    assert.equal(closeCodes.length, SOCKETS);
    assert.ok(closeCodes.includes(1009), `no socket was closed for an oversized frame: ${closeCodes}`);
    const expected = Array.from({ length: MARKER_LINES }, (_, i) => `mark-${i + 1}\n`).join('');
    assert.equal(result.stdout, expected, 'exec output of the concurrent session changed');
    await watcher.waitForOutput(`mark-${MARKER_LINES}\r\n`, 20_000);
    const seen = [...watcher.output.matchAll(/mark-(\d+)\r\n/g)].map((match) => Number(match[1]));
    assert.deepEqual(seen, Array.from({ length: MARKER_LINES }, (_, i) => i + 1), 'the live viewer lost or reordered output');

    // The relay is up, the attacked session still works, and nothing typed by the fuzzers ran.
    const health = await fetch(`${env.relay.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await sandbox.exec('echo target-alive', { session: target })).stdout, 'target-alive\n');
    assert.equal(await sandbox.readFile('/workspace/canary'), 'alive');
    assert.ok(Date.now() - startedAt < 30_000, 'the fuzz run took longer than 30 s');
    watcher.close();
  });
});
