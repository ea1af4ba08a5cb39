/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import type { ScreenRestore } from '@sandbox-terminal/elements';
import type { ReadyMessage } from '@sandbox-terminal/protocol';
import { cleanUpFixtures, mountTerminal, relayCommands, sandboxClient, typeLine, screenLines, uniqueSandboxId, waitFor, waitForLine, waitForPrompt, waitForState } from './helpers.ts';

const SEQ_LINES = 1_500_000;
const UTF8_LINES = 30_000;
const DROPS = 20;
/** More than the element's 5000 lines of scrollback. */
const SCROLLBACK_FILL_LINES = 6_000;
/** The whole run: printing ~11 MB through xterm with 20 reconnects in between. */
const RESUME_TEST_TIMEOUT_MS = 60_000;
const OUTPUT_TIMEOUT_MS = 50_000;
/** Reconnect quickly, so 20 drops in a row do not escalate into the default backoff's 10 s waits. */
const FAST_RECONNECT = { minDelayMs: 20, maxDelayMs: 100, growFactor: 1.2, jitterRatio: 0 };

// é 😀 世 界 as octal escapes for bash's printf: typing them would test the keyboard, not the output path.
const UTF8_PRINTF = String.raw`\303\251\360\237\230\200\344\270\226\347\225\214`;
const UTF8_TEXT = 'é😀世界';
/**
 * The seq output is paced (64 KiB every 30 ms, ~2 MB/s) so the 20 drops land while it flows: unpaced, it outruns the
 * drops, since each reconnect delivers everything the relay read meanwhile (up to its 2 MiB flow window) at once.
 */
const PACE_CHUNK_BYTES = 65_536;
const PACE_SECONDS = 0.03;
// The shell computes the markers, so the echoed command line cannot match them.
const COMMAND =
  `seq 1 ${SEQ_LINES} > /tmp/resume-seq.txt; echo BEGIN-$((6*7)); ` +
  `for o in $(seq 0 $(( $(stat -c %s /tmp/resume-seq.txt) / ${PACE_CHUNK_BYTES} ))); do ` +
  `dd if=/tmp/resume-seq.txt bs=${PACE_CHUNK_BYTES} skip=$o count=1 status=none; sleep ${PACE_SECONDS}; done; ` +
  `for i in $(seq 1 ${UTF8_LINES}); do printf '${UTF8_PRINTF}%d\\n' $i; done; echo END-$((6*7))`;
const BEGIN = 'BEGIN-42\r\n';
const END = 'END-42\r\n';

function expectedOutput(): string {
  const parts: string[] = [BEGIN];
  for (let i = 1; i <= SEQ_LINES; i++) parts.push(`${i}\r\n`);
  for (let i = 1; i <= UTF8_LINES; i++) parts.push(`${UTF8_TEXT}${i}\r\n`);
  parts.push(END);
  return parts.join('');
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `at ${i}: received ${JSON.stringify(a.slice(Math.max(0, i - 20), i + 40))}, expected ${JSON.stringify(b.slice(Math.max(0, i - 20), i + 40))}`;
}

describe('<sandbox-terminal> cursor resume', () => {
  afterEach(cleanUpFixtures);

  it('output survives 20 dropped connections byte for byte: no gap, no duplicate, no screen redraw', async function () {
    this.timeout(RESUME_TEST_TIMEOUT_MS);
    const sandboxId = uniqueSandboxId('resume');
    const { element } = await mountTerminal({ sandbox: sandboxId, reconnect: FAST_RECONNECT });
    await waitForState(element, 'connected');
    await waitForPrompt(element);
    const connection = element.connection!;

    // Everything the addon hands to xterm from here on, decoded as one UTF-8 stream (split characters included).
    const decoder = new TextDecoder();
    const received: string[] = [];
    let receivedBytes = 0;
    let finished = false;
    const readies: ReadyMessage[] = [];
    const screens: ScreenRestore[] = [];
    connection.onOutput((bytes) => {
      receivedBytes += bytes.byteLength;
      received.push(decoder.decode(bytes, { stream: true }));
      if (!finished) finished = received.slice(-3).join('').includes(END);
    });
    connection.onReady((message) => readies.push(message));
    connection.onScreenRestore((screen) => screens.push(screen));

    // A fresh xterm parses slowly until its scrollback is full (the buffer grows line by line); fill it first, so
    // the relay does not judge this viewer too slow and switch it to screen restore (which this test forbids).
    await typeLine(element, `seq 1 ${SCROLLBACK_FILL_LINES}`);
    await waitForLine(element, String(SCROLLBACK_FILL_LINES));
    await waitForPrompt(element);
    // The first connect's own snapshot may be handled after its `ready`, so counting starts only now.
    screens.length = 0;
    readies.length = 0;
    await typeLine(element, COMMAND);
    const expected = expectedOutput();
    const expectedBytes = new TextEncoder().encode(expected).byteLength;
    // Different points each time: spread over the first ~80 % of the output, each nudged at random.
    const spacing = (expectedBytes * 0.8) / DROPS;
    for (let drop = 1; drop <= DROPS; drop++) {
      const dropAt = spacing * (drop - 0.5 + Math.random() * 0.5);
      await waitFor(() => receivedBytes >= dropAt || finished, `${Math.round(dropAt)} bytes of output before drop ${drop}`, {
        timeoutMs: OUTPUT_TIMEOUT_MS,
        describeState: () => `${receivedBytes} bytes received; readies ${JSON.stringify(readies.map((r) => [r.position, r.resumed]))}`,
      });
      expect(finished, `the output ended before drop ${drop}: the drops must happen while it flows`).to.equal(false);
      await relayCommands.dropConnections(sandboxId);
      await waitFor(() => readies.length >= drop && element.status.state === 'connected', `reconnect ${drop}`, {
        describeState: () => `${JSON.stringify(element.status)}; ${readies.length} readies`,
      });
    }
    await waitFor(() => finished, 'the end marker', {
      timeoutMs: OUTPUT_TIMEOUT_MS,
      describeState: () => `${receivedBytes} of ~${expectedBytes} bytes received`,
    });

    expect(readies.map((ready) => ready.resumed)).to.deep.equal(new Array<boolean>(DROPS).fill(true));
    expect(screens, 'no screen snapshot after the first connect').to.deep.equal([]);
    const text = received.join('') + decoder.decode();
    const start = text.indexOf(BEGIN);
    const end = text.indexOf(END, start);
    expect(start, 'the begin marker').to.be.greaterThan(-1);
    const output = text.slice(start, end + END.length);
    if (output !== expected) expect.fail(`output differs (${output.length} vs ${expected.length} chars) ${firstDifference(output, expected)}`);
  });

  it('a different session starts from its screen: the old cursor is not carried over', async () => {
    const sandboxId = uniqueSandboxId('switch');
    const sandbox = await sandboxClient(sandboxId);
    const [first, second] = [await sandbox.createSession(), await sandbox.createSession()];
    // The second session has printed more than the first, so a cursor from the first would still be in its log.
    await sandbox.exec(`seq 1 ${SCROLLBACK_FILL_LINES}`, { session: second });
    const { element } = await mountTerminal({ sandbox: sandboxId, session: first });
    await waitForState(element, 'connected');
    await waitForPrompt(element);
    await typeLine(element, 'echo first-$((6*7))');
    await waitForLine(element, 'first-42');

    element.session = second;
    await element.updateComplete;
    const connection = element.connection!;
    const readies: ReadyMessage[] = [];
    const screens: ScreenRestore[] = [];
    connection.onReady((message) => readies.push(message));
    connection.onScreenRestore((screen) => screens.push(screen));
    await waitFor(() => readies.length > 0 && screens.length > 0, 'ready and screen from the second session');
    expect(readies.map(({ sessionId, resumed }) => ({ sessionId, resumed }))).to.deep.equal([{ sessionId: second, resumed: false }]);
    await waitForLine(element, String(SCROLLBACK_FILL_LINES));
    expect(screenLines(element).some((line) => line.trim() === 'first-42'), 'the first session is gone from the screen').to.equal(false);
  });
});
