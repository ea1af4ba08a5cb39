import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PTY_INPUT_RETRY_LONGEST_MS, PtyInput } from '../../server/src/session/pty-input.ts';
import { waitFor } from './helpers.ts';

/** A PTY whose input buffer holds `room` bytes until `drain()`: what it took, in order, and how often it was tried. */
class FakePty {
  taken = '';
  tries = 0;
  room: number;
  failWith: string | undefined;

  constructor(room: number) {
    this.room = room;
  }

  writeSome = (bytes: Buffer): number => {
    this.tries++;
    if (this.failWith) throw Object.assign(new Error(this.failWith), { code: this.failWith });
    if (this.room === 0) throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
    const count = Math.min(this.room, bytes.length);
    this.room -= count;
    this.taken += bytes.toString('latin1', 0, count);
    return count;
  };
}

describe('PtyInput', () => {
  it('writes at once while the PTY takes everything: nothing is held, no timer runs', () => {
    const pty = new FakePty(1_000);
    const input = new PtyInput(pty.writeSome, 100);
    input.typed(Buffer.from('ls\r'));
    input.write('\x1b[5999~');
    assert.equal(pty.taken, 'ls\r\x1b[5999~');
    assert.equal(input.pendingBytes, 0);
    assert.equal(pty.tries, 2);
    input.close();
  });

  it('holds what a full PTY refuses and hands it over in order once there is room, the relay’s own input after the typed', async () => {
    const pty = new FakePty(4);
    const input = new PtyInput(pty.writeSome, 100);
    input.typed(Buffer.from('abcdefgh'));
    input.write('KEY');
    input.typed(Buffer.from('ij'));
    assert.equal(pty.taken, 'abcd');
    assert.equal(input.pendingBytes, 9);
    pty.room = 1_000;
    await waitFor(() => input.pendingBytes === 0, 'the held input written');
    assert.equal(pty.taken, 'abcdefghKEYij');
    input.close();
  });

  it('refuses a viewer frame that would pass the limit, whole, naming terminalInputPendingBytes; a smaller one still fits', () => {
    const pty = new FakePty(0);
    const input = new PtyInput(pty.writeSome, 10);
    input.typed(Buffer.from('123456'));
    assert.throws(
      () => input.typed(Buffer.from('78901')),
      (error: { code?: string; details?: { limit?: string; value?: number } }) =>
        error.code === 'LIMIT_EXCEEDED' && error.details?.limit === 'terminalInputPendingBytes' && error.details.value === 10,
    );
    assert.equal(input.pendingBytes, 6, 'nothing of the refused frame is held');
    input.typed(Buffer.from('7890'));
    assert.equal(input.pendingBytes, 10);
    input.close();
  });

  it('backs off while the PTY takes nothing: a handful of tries a second, not one per turn of the event loop', async () => {
    const pty = new FakePty(0);
    const input = new PtyInput(pty.writeSome, 100);
    input.typed(Buffer.from('x'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // 1, 2, 4, … ms up to the longest wait: about 7 tries in the first 127 ms, then one per longest wait.
    const most = 8 + Math.ceil(500 / PTY_INPUT_RETRY_LONGEST_MS);
    assert.ok(pty.tries <= most, `${pty.tries} tries in 500 ms (at most ${most})`);
    assert.ok(pty.tries >= 5, `${pty.tries} tries in 500 ms: it gave up`);
    input.close();
  });

  it('an error other than EAGAIN (the terminal is gone) drops what is held and ends the input', () => {
    const pty = new FakePty(0);
    let released = 0;
    const input = new PtyInput(pty.writeSome, 100, () => released++);
    input.typed(Buffer.from('held'));
    pty.failWith = 'EIO';
    input.write('more');
    // The held bytes go first; with them pending, the new ones queue behind and the retry meets the EIO.
    return waitFor(() => released === 1, 'the input released').then(() => {
      assert.equal(input.pendingBytes, 0);
      const tries = pty.tries;
      input.typed(Buffer.from('after'));
      assert.equal(pty.tries, tries, 'nothing is written after the end');
      input.close();
      assert.equal(released, 1, 'released once');
    });
  });
});
