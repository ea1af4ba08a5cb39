// SessionOutput without a relay: the output log, the lazy screen mirror and a viewer, fed synchronously (as a burst
// of PTY or exec chunks arrives between two turns of the event loop, before the mirror has parsed any of it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import serializePackage from '@xterm/addon-serialize';
import headlessPackage from '@xterm/headless';
import type { ServerControlMessage } from '@sandbox-terminal/protocol';
import { DEFAULT_LIMITS } from '../../server/src/limits.ts';
import { SessionOutput, type SessionViewer } from '../../server/src/session/session-output.ts';

const COLS = 80;
const ROWS = 24;

/** What a v1 viewer renders: the last `screen` and the output after it, replayed into a terminal. */
class RecordingViewer implements SessionViewer {
  readonly protocol = 'v1';
  readonly bufferedAmount = 0;
  #stream: Buffer[] = [];
  sendOutput(data: Buffer): void {
    this.#stream.push(Buffer.from(data));
  }
  sendControl(message: ServerControlMessage): void {
    if (message.type === 'screen') this.#stream = [Buffer.from(message.data)];
  }
  close(): void {}
  screen(): Promise<string> {
    return render(Buffer.concat(this.#stream));
  }
}

async function render(stream: Buffer): Promise<string> {
  const terminal = new headlessPackage.Terminal({ cols: COLS, rows: ROWS, scrollback: 0, allowProposedApi: true });
  const serializer = new serializePackage.SerializeAddon();
  terminal.loadAddon(serializer);
  await new Promise<void>((resolve) => terminal.write(stream, resolve));
  const screen = serializer.serialize({ scrollback: 0 });
  terminal.dispose();
  return screen;
}

const ready = (position: number) => ({ type: 'ready', sessionId: 's', mode: 'attached', position, resumed: false, cols: COLS, rows: ROWS }) as never;

describe('session output', () => {
  it('a viewer attaching after a burst the mirror has not parsed yet gets the whole screen, even past the log limit', async () => {
    const outputLogBytes = 64 * 1024;
    const output = new SessionOutput({ ...DEFAULT_LIMITS, outputLogBytes }, COLS, ROWS, { pause() {}, resume() {} });
    const chunks: Buffer[] = [];
    // 8 chunks of 32 KiB, as FIFO or PTY reads hand them over, then a clear and the last line
    for (let chunk = 0; chunk < 8; chunk++) {
      let text = '';
      for (let line = 0; text.length < 32 * 1024 - 40; line++) text += `chunk ${chunk} line ${line}\r\n`;
      chunks.push(Buffer.from(text));
    }
    chunks.push(Buffer.from('\x1b[H\x1b[2Jafter-the-burst\r\n$ '));
    for (const chunk of chunks) output.emit(chunk);
    const viewer = new RecordingViewer();
    output.attach(viewer, undefined, ready);
    const expected = await render(Buffer.concat(chunks));
    assert.match(expected, /after-the-burst/);
    assert.equal(await viewer.screen(), expected);
    // and once the mirror has caught up, the log is back within its limit
    await output.mirror.settled();
    output.emit(Buffer.from('x'));
    assert.ok(output.log.end - output.log.start <= outputLogBytes + 64 * 1024, `log holds ${output.log.end - output.log.start} bytes`);
    output.dispose();
  });
});
