// The screen mirror parses lazily and skips plain text that cannot reach a snapshot (server/src/session/
// screen-fast-forward.ts). These tests hold it to the only thing that matters: after any output, in any chunking, its
// screen is exactly the screen of a terminal that parsed every byte.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import serializePackage from '@xterm/addon-serialize';
import headlessPackage from '@xterm/headless';
import { fastForwardCut, fastForwardLines } from '../../server/src/session/screen-fast-forward.ts';
import { MIRROR_FLOOD_QUIET_MS, MIRROR_QUIET_MS, MIRROR_QUIET_PARSE_BYTES, MIRROR_RESTING_QUEUE_BYTES, SCREEN_SCROLLBACK_LINES, ScreenMirror } from '../../server/src/session/screen-mirror.ts';
import { seededRandom } from './seeded-random.ts';

const COLS = 40;
const ROWS = 10;
const KEEP = fastForwardLines(ROWS, SCREEN_SCROLLBACK_LINES);
/** Lines of a typical flood in the random streams: independent of KEEP, so a wrong KEEP cannot shrink the test. */
const FLOOD_LINES = 1050;

/** The screen of a terminal that parsed every byte, serialized like the mirror's. */
async function referenceScreen(stream: Buffer, resizes: Array<{ at: number; cols: number; rows: number }> = []): Promise<string> {
  const terminal = new headlessPackage.Terminal({ cols: COLS, rows: ROWS, scrollback: SCREEN_SCROLLBACK_LINES, allowProposedApi: true });
  const serializer = new serializePackage.SerializeAddon();
  terminal.loadAddon(serializer);
  let at = 0;
  for (const resize of resizes) {
    await new Promise<void>((resolve) => terminal.write(stream.subarray(at, resize.at), resolve));
    terminal.resize(resize.cols, resize.rows);
    at = resize.at;
  }
  await new Promise<void>((resolve) => terminal.write(stream.subarray(at), resolve));
  const screen = serializer.serialize({ scrollback: SCREEN_SCROLLBACK_LINES });
  terminal.dispose();
  return screen;
}

/** Words of the floods; C0 controls among them (plain: they only move the cursor or do nothing). */
const WORDS = ['lorem', 'ipsum', 'Grüße', '漢字テスト', '🙂', 'tab\there', 'x'.repeat(70), '', 'back\bspace', 'bell\x07nul\x00', 'vt\x0bff\x0c'];
/** Output a terminal meets: floods of plain lines between escape sequences that change state the skip must keep. */
const PIECES: Array<(next: () => number) => string> = [
  (next) => {
    // a flood: enough lines to be skipped, with \r\n or bare \n line ends
    const lines = Math.floor(next() * 3 * FLOOD_LINES);
    const bare = next() < 0.2;
    let text = '';
    for (let i = 0; i < lines; i++) text += `${i} ${WORDS[Math.floor(next() * WORDS.length)]}${bare ? '\n' : '\r\n'}`;
    return text;
  },
  (next) => `\x1b[${Math.floor(next() * 8) + 30};${next() < 0.5 ? 1 : 4}m`,
  () => '\x1b[0m',
  (next) => `\x1b[${Math.floor(next() * ROWS) + 1};${Math.floor(next() * COLS) + 1}H`,
  (next) => `\x1b[${Math.floor(next() * 3) + 2};${ROWS - Math.floor(next() * 3)}r`, // a scroll region
  () => '\x1b[r',
  () => '\x1b[?1049h',
  () => '\x1b[?1049l',
  () => '\x1b[2J',
  (next) => `\x1b]0;title ${Math.floor(next() * 100)}\x07`,
  () => '\x1b]0;title split across',
  () => ' a flood\x07',
  () => '\x1b[4h',
  () => '\x1b[4l',
  () => '\x1b(0lqqk\x1b(B',
  () => '\x1b[?7l',
  () => '\x1b[?7h',
  () => '\u009b32m', // a C1 CSI (0xc2 0x9b in UTF-8)
  () => 'partial line without an end',
  // SO and SI switch the character set (G1 here is the line-drawing one)
  () => '\x1b)0\x0eshifted out lqqk\r\n',
  () => '\x0fshifted in\r\n',
];

function randomStream(seed: number): Buffer {
  const next = seededRandom(seed);
  const parts: string[] = [];
  // floods a third of the time, the rest spread over the state changes
  for (let i = 0; i < 40; i++) parts.push(PIECES[next() < 0.3 ? 0 : Math.floor(next() * PIECES.length)]!(next));
  // a final flood, so every stream ends with something to skip
  parts.push(PIECES[0]!(() => 0.9));
  return Buffer.from(parts.join(''), 'utf8');
}

/** Writes `stream` into a mirror in random chunks (UTF-8 sequences split too), yielding now and then. */
/** Writes `stream` in random chunks, now and then letting the event loop (and so the mirror's parser) run. */
async function feedMirror(mirror: ScreenMirror, stream: Buffer, seed: number, { yields = true } = {}): Promise<void> {
  const next = seededRandom(seed ^ 0x5eed);
  let at = 0;
  while (at < stream.length) {
    const size = 1 + Math.floor(next() * 6000);
    mirror.write(stream.subarray(at, at + size));
    at += size;
    if (next() < 0.05 && yields) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('screen mirror', () => {
  it('after random output in random chunks, its screen equals a terminal that parsed every byte (30 seeds)', async () => {
    let skipped = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const stream = randomStream(seed);
      const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 64 * 1024 });
      await feedMirror(mirror, stream, seed);
      const snapshot = await mirror.settled();
      assert.equal(snapshot.position, stream.length, `seed ${seed}: position`);
      assert.equal(snapshot.data, await referenceScreen(stream), `seed ${seed}: screen`);
      skipped += mirror.skippedBytes;
      mirror.dispose();
    }
    // the property is only worth something if the skip happened
    assert.ok(skipped > 1_000_000, `skipped ${skipped} bytes`);
  });

  it('skips most of a plain flood, and the screen is still exact', async () => {
    let text = '';
    for (let i = 0; i < 40_000; i++) text += `line ${i} of a flood\r\n`;
    const stream = Buffer.from(`\x1b[31mred from here\r\n${text}tail`);
    const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 64 * 1024 });
    // All of it arrives before the parser's first piece is done, as a flood does: how much is skipped then does not
    // depend on how the machine schedules the parser's slices (with yields in between it did: 77% under load).
    await feedMirror(mirror, stream, 7, { yields: false });
    const snapshot = await mirror.settled();
    assert.equal(snapshot.data, await referenceScreen(stream));
    assert.ok(mirror.skippedBytes > stream.length * 0.8, `skipped ${mirror.skippedBytes} of ${stream.length}`);
    mirror.dispose();
  });

  it('a snapshot taken while a flood streams, with the output after its position, gives the exact screen (10 seeds)', async () => {
    // Output the serializer rebuilds exactly (no wrapped lines, charsets or open attributes: those it does not carry
    // over to what follows a snapshot, whether the mirror skipped or not), so what is checked is the skip.
    const words = ['lorem', 'Grüße', '漢字テスト', 'tab\there', 'back\bspace', 'bell\x07'];
    const stream = (next: () => number) => {
      let text = '';
      for (let part = 0; part < 30; part++) {
        const lines = next() < 0.5 ? Math.floor(next() * 3 * FLOOD_LINES) : Math.floor(next() * 5);
        for (let i = 0; i < lines; i++) text += `${i} ${words[Math.floor(next() * words.length)]}\r\n`;
        text += ['\x1b[1;32mgreen\x1b[0m\r\n', '\x1b[3;4Hmoved', '\x1b[2J', '\x1b]0;title\x07', 'no end'][Math.floor(next() * 5)];
      }
      return Buffer.from(text);
    };
    let takenWhileSkipping = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const next = seededRandom(seed);
      const output = stream(next);
      const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 64 * 1024 });
      const taken: Array<{ snapshot: { data: string; position: number }; written: number }> = [];
      let at = 0;
      while (at < output.length) {
        const size = 1 + Math.floor(next() * 6000);
        mirror.write(output.subarray(at, at + size));
        at = Math.min(output.length, at + size);
        if (next() < 0.08) taken.push({ snapshot: mirror.snapshot(), written: at });
        if (next() < 0.05) await new Promise((resolve) => setImmediate(resolve));
      }
      for (const { snapshot, written } of taken) {
        // as a new viewer gets it: the screen, then the output log from the snapshot's position
        const viewer = await referenceScreen(Buffer.concat([Buffer.from(snapshot.data), output.subarray(snapshot.position, written)]));
        assert.equal(viewer, await referenceScreen(output.subarray(0, written)), `seed ${seed}, snapshot at ${snapshot.position} of ${written}`);
        if (snapshot.data.endsWith('\r\n')) takenWhileSkipping++;
      }
      mirror.dispose();
    }
    assert.ok(takenWhileSkipping >= 3, `only ${takenWhileSkipping} snapshots were taken while the mirror skipped`);
  });

  it('skips nothing while a scroll region is set or a string sequence is open', async () => {
    let text = '';
    for (let i = 0; i < 10_000; i++) text += `line ${i}\r\n`;
    for (const opening of ['\x1b[2;8r', '\x1b]0;a title that never ends ']) {
      const stream = Buffer.from(opening + text);
      const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 16 * 1024 });
      mirror.write(stream.subarray(0, opening.length));
      await mirror.settled();
      await feedMirror(mirror, stream.subarray(opening.length), 3);
      const snapshot = await mirror.settled();
      assert.equal(mirror.skippedBytes, 0, JSON.stringify(opening));
      assert.equal(snapshot.data, await referenceScreen(stream));
      mirror.dispose();
    }
  });

  it('applies a resize after the output written before it', async () => {
    const before = Buffer.from(`${'w'.repeat(35)} wide line\r\n`.repeat(30));
    const after = Buffer.from('after the resize\r\n');
    const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 1024 * 1024 });
    mirror.write(before);
    mirror.resize(20, 6);
    mirror.write(after);
    const snapshot = await mirror.settled();
    const stream = Buffer.concat([before, after]);
    const reference = await referenceScreen(stream, [{ at: before.length, cols: 20, rows: 6 }]);
    assert.equal(snapshot.data, reference);
    mirror.dispose();
  });

  it('is behind by at most its lag while output streams, and parses quiet output by itself (awake)', async () => {
    const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 8 * 1024, restAfterMs: 0 });
    mirror.write(Buffer.from('a prompt$ '));
    assert.equal(mirror.snapshot().position, 0, 'not parsed at once');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(mirror.snapshot().position, 10, 'parsed once quiet');
    assert.match(mirror.snapshot().data, /a prompt\$/);
    mirror.dispose();
  });

  it('parses a flood queue only after MIRROR_FLOOD_QUIET_MS of quiet, not at every short pause of a paced flood', async () => {
    const mirror = new ScreenMirror(COLS, ROWS, { restAfterMs: 0 });
    const flood = Buffer.from('flood line\r\n'.repeat(Math.ceil((MIRROR_QUIET_PARSE_BYTES + 1) / 12)));
    mirror.write(flood);
    // A pause as flow control makes them: several times MIRROR_QUIET_MS, well under MIRROR_FLOOD_QUIET_MS.
    await new Promise((resolve) => setTimeout(resolve, MIRROR_QUIET_MS * 5));
    assert.equal(mirror.snapshotPosition, 0, 'a paused flood is not parsed yet');
    mirror.write(Buffer.from('more\r\n'));
    await new Promise((resolve) => setTimeout(resolve, MIRROR_FLOOD_QUIET_MS - MIRROR_QUIET_MS * 5));
    assert.equal(mirror.snapshotPosition, 0, 'the quiet time starts again with every write');
    await new Promise((resolve) => setTimeout(resolve, MIRROR_QUIET_MS * 10 + MIRROR_FLOOD_QUIET_MS));
    assert.equal(mirror.snapshotPosition, flood.length + 6, 'parsed once the flood has been quiet long enough');
    assert.match(mirror.snapshot().data, /more/);
    mirror.dispose();
  });
});

describe('a resting screen mirror', () => {
  const REST_MS = 40;
  /** Output a serializer rebuilds exactly (as a shell shows it: prompts, colours reset, no wrapped lines). */
  const shellOutput = (from: number, lines: number) => {
    let text = '';
    for (let i = from; i < from + lines; i++) text += `\x1b[1;32muser@sandbox\x1b[0m:\x1b[34m/workspace\x1b[0m$ echo ${i}\r\n${i} Grüße 漢字\r\n`;
    return Buffer.from(`${text}\x1b[1;32muser@sandbox\x1b[0m:/workspace$ `);
  };
  const until = async (check: () => boolean, what: string) => {
    for (let waited = 0; !check(); waited += 10) {
      if (waited > 5_000) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it('starts resting: quiet output only queues, a snapshot with the bytes after its position is exact, and enough output wakes it', async () => {
    const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 1024 * 1024, restAfterMs: REST_MS });
    assert.equal(mirror.resting, true, 'a new mirror rests');
    const prompt = shellOutput(0, 3);
    mirror.write(prompt);
    await new Promise((resolve) => setTimeout(resolve, REST_MS));
    assert.equal(mirror.resting, true, 'a prompt does not wake it');
    const snapshot = mirror.snapshot();
    assert.equal(snapshot.position, 0);
    // as a new viewer gets it: the screen, then the output log from the snapshot's position
    assert.equal(await referenceScreen(Buffer.concat([Buffer.from(snapshot.data), prompt])), await referenceScreen(prompt));
    assert.equal(mirror.backlog, prompt.length, 'the log must hold what it queued');
    const flood = shellOutput(3, 1200);
    assert.ok(flood.length >= MIRROR_RESTING_QUEUE_BYTES, 'the test writes enough');
    mirror.write(flood);
    assert.equal(mirror.resting, false, 'a resting queue of MIRROR_RESTING_QUEUE_BYTES wakes it');
    const settled = await mirror.settled();
    assert.equal(settled.data, await referenceScreen(Buffer.concat([prompt, flood])));
    mirror.dispose();
  });

  it('frees its terminal once quiet, and output after it lands on the exact screen', async () => {
    const first = shellOutput(0, 600);
    const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 64 * 1024, restAfterMs: REST_MS });
    mirror.write(first);
    await mirror.settled();
    assert.equal(mirror.resting, false, 'not at once');
    await until(() => mirror.resting, 'the mirror rests');
    // resting, a snapshot is the screen it rests with, at the same position
    const atRest = mirror.snapshot();
    assert.equal(atRest.position, first.length);
    assert.equal(atRest.data, await referenceScreen(first));
    const second = shellOutput(600, 30);
    mirror.write(second);
    assert.equal(mirror.snapshot().position, first.length, 'queued output is not in the snapshot before it is parsed');
    const snapshot = await mirror.settled();
    assert.equal(mirror.resting, false, 'output woke it');
    assert.equal(snapshot.position, first.length + second.length);
    assert.equal(snapshot.data, await referenceScreen(Buffer.concat([first, second])));
    // and it rests again
    await until(() => mirror.resting, 'the mirror rests again');
    mirror.dispose();
  });

  it('applies a resize after the screen it rested with and the output queued before it', async () => {
    const before = shellOutput(0, 40);
    const queued = Buffer.from('typed while resting\r\n');
    const after = Buffer.from('after the resize\r\n');
    const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 64 * 1024, restAfterMs: REST_MS });
    mirror.write(before);
    await mirror.settled();
    await until(() => mirror.resting, 'the mirror rests');
    mirror.write(queued);
    mirror.resize(20, 6);
    mirror.write(after);
    assert.equal(mirror.resting, true, 'a resize alone does not wake it');
    const snapshot = await mirror.settled();
    assert.equal(snapshot.data, await referenceScreen(Buffer.concat([before, queued, after]), [{ at: before.length + queued.length, cols: 20, rows: 6 }]));
    mirror.dispose();
  });

  it('does not rest where a snapshot would not rebuild the state: alternate screen, scroll region, open sequence', async () => {
    for (const state of ['\x1b[?1049hvim-like screen', '\x1b[2;8rscrolling region', '\x1b]0;a title that never ends']) {
      const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 64 * 1024, restAfterMs: REST_MS });
      mirror.write(Buffer.concat([shellOutput(0, 5), Buffer.from(state)]));
      await mirror.settled();
      await new Promise((resolve) => setTimeout(resolve, REST_MS * 4));
      assert.equal(mirror.resting, false, JSON.stringify(state));
      mirror.dispose();
    }
    // the control: the same wait at a plain prompt rests
    const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 64 * 1024, restAfterMs: REST_MS });
    mirror.write(shellOutput(0, 5));
    await until(() => mirror.resting, 'the control rests');
    mirror.dispose();
  });

  it('a new mirror takes its first size without waking', async () => {
    const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 64 * 1024, restAfterMs: REST_MS });
    mirror.resize(20, 6);
    assert.equal(mirror.resting, true);
    const output = Buffer.from(`${'x'.repeat(30)}\r\n$ `);
    mirror.write(output);
    const snapshot = await mirror.settled();
    // laid out at 20 columns: the 30 x's wrap
    assert.equal(snapshot.data, await referenceScreen(output, [{ at: 0, cols: 20, rows: 6 }]));
    mirror.dispose();
  });

  it('loads a saved screen over a resting one', async () => {
    const mirror = new ScreenMirror(COLS, ROWS, { lagBytes: 64 * 1024, restAfterMs: REST_MS });
    mirror.write(shellOutput(0, 5));
    await until(() => mirror.resting, 'the mirror rests');
    const saved = Buffer.from('saved screen\r\n$ ');
    mirror.load({ data: saved.toString(), position: 1000 });
    mirror.write(Buffer.from('more'));
    const snapshot = await mirror.settled();
    assert.equal(snapshot.position, 1004);
    assert.equal(snapshot.data, await referenceScreen(Buffer.concat([saved, Buffer.from('more')])));
    mirror.dispose();
  });
});

describe('fastForwardCut', () => {
  const lines = (count: number, end = '\r\n') => Buffer.from(Array.from({ length: count }, (_, i) => `line ${i}${end}`).join(''));

  it('cuts after the \\r\\n that leaves exactly enough line feeds', () => {
    const stream = lines(KEEP + 5);
    const cut = fastForwardCut(stream, KEEP);
    assert.equal(stream.subarray(0, cut).toString(), lines(5).toString());
  });

  it('finds nothing with too few lines, or when an escape sequence comes first', () => {
    assert.equal(fastForwardCut(lines(KEEP), KEEP), undefined);
    assert.equal(fastForwardCut(Buffer.concat([Buffer.from('\x1b[1m'), lines(3 * KEEP)]), KEEP), undefined);
    assert.equal(fastForwardCut(Buffer.concat([Buffer.from([0x9b]), lines(3 * KEEP)]), KEEP), undefined, 'a continuation byte first');
  });

  it('stops the plain run at a C1 control, and at a C1 lead byte whose next byte has not arrived', () => {
    const head = lines(KEEP + 10);
    assert.equal(fastForwardCut(Buffer.concat([head, Buffer.from([0xc2, 0x9b]), lines(3 * KEEP)]), KEEP), lines(10).length);
    assert.equal(fastForwardCut(Buffer.concat([head, Buffer.from([0xc2])]), KEEP), lines(10).length);
    assert.equal(fastForwardCut(Buffer.concat([head, Buffer.from('°'), lines(3 * KEEP)]), KEEP), head.length + Buffer.from('°').length + lines(2 * KEEP).length, 'U+00B0 is plain');
  });

  it('counts across chunks as in one buffer, a C1 control split between two chunks included', () => {
    const head = lines(KEEP + 10);
    const stream = Buffer.concat([head, Buffer.from([0xc2, 0x9b]), lines(3 * KEEP)]);
    const at = head.length + 1; // between the lead byte and the rest of the CSI
    assert.equal(fastForwardCut([stream.subarray(0, at), stream.subarray(at)], KEEP), lines(10).length);
    const plain = lines(3 * KEEP);
    const pieces = [plain.subarray(0, 100), plain.subarray(100, 5000), plain.subarray(5000)];
    assert.equal(fastForwardCut(pieces, KEEP), fastForwardCut(plain, KEEP));
    const utf8 = Buffer.from(Array.from({ length: 3 * KEEP }, (_, i) => `Grüße ${i}\r\n`).join(''));
    const split = utf8.indexOf(0xc3) + 1; // a continuation byte starts the second chunk
    assert.equal(fastForwardCut([utf8.subarray(0, split), utf8.subarray(split)], KEEP), fastForwardCut(utf8, KEEP));
  });

  it('stops the plain run at SO, SI (they switch the character set) and DEL, not at other C0 controls', () => {
    const head = lines(KEEP + 10);
    for (const control of ['\x0e', '\x0f', '\x7f']) {
      assert.equal(fastForwardCut(Buffer.concat([head, Buffer.from(control), lines(3 * KEEP)]), KEEP), lines(10).length, JSON.stringify(control));
    }
    const others = Buffer.from('\b\x07\x00\x0b\x0c\x18\x1a');
    const withoutThem = fastForwardCut(Buffer.concat([head, lines(3 * KEEP)]), KEEP)!;
    assert.equal(fastForwardCut(Buffer.concat([head, others, lines(3 * KEEP)]), KEEP), withoutThem + others.length);
  });

  it('never cuts after a bare line feed (the column would not be known)', () => {
    assert.equal(fastForwardCut(lines(3 * KEEP, '\n'), KEEP), undefined);
  });
});
