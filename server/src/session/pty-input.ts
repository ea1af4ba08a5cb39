import { closeSync, writeSync } from 'node:fs';
import type { IPty } from 'node-pty';
import { limitExceeded } from '../errors.ts';
import { nativeFs } from '../sandbox/native.ts';

/** After the PTY refused input (its buffer is full), the first wait before trying again; it doubles while refused. */
export const PTY_INPUT_RETRY_FIRST_MS = 1;
/** The longest wait between tries while the PTY takes nothing (a program that does not read its input). */
export const PTY_INPUT_RETRY_LONGEST_MS = 50;

/** Writes what the PTY takes at once and says how many bytes that was; throws EAGAIN when it takes nothing. */
export type WriteSome = (bytes: Buffer) => number;

/**
 * The input side of one shell's PTY: keystrokes, pastes, the exec key. Written on the event loop, straight to the
 * master descriptor, so a keystroke reaches the shell in the same turn it arrived in (node-pty's own write goes
 * through a libuv pool thread and back first). What the PTY does not take yet, because the program in the terminal is
 * not reading, is held in order and tried again on a timer that backs off to `PTY_INPUT_RETRY_LONGEST_MS`: node-pty
 * retries on every turn of the event loop instead, which held a core at ~80% for as long as such a program ran. The
 * bytes held for viewers are bounded (`terminalInputPendingBytes`): a frame that would pass the bound is refused whole.
 */
export class PtyInput {
  readonly #writeSome: WriteSome;
  readonly #release: () => void;
  readonly #pending: Buffer[] = [];
  #pendingBytes = 0;
  #retryMs = PTY_INPUT_RETRY_FIRST_MS;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(writeSome: WriteSome, readonly limitBytes: number, release: () => void = () => undefined) {
    this.#writeSome = writeSome;
    this.#release = release;
  }

  /**
   * For a node-pty terminal: the relay's own duplicate of its master descriptor, so no write can reach another file
   * once node-pty has closed its descriptor and the number is reused. A PTY without a descriptor (a test's fake) is
   * written through its `write`.
   */
  static forPty(pty: IPty, limitBytes: number): PtyInput {
    const fd = (pty as IPty & { fd?: unknown }).fd;
    if (typeof fd !== 'number') return new PtyInput((bytes) => (pty.write(bytes), bytes.length), limitBytes);
    const copy = nativeFs().dupNonblocking(fd);
    return new PtyInput((bytes) => writeSync(copy, bytes), limitBytes, () => closeSync(copy));
  }

  /** Bytes taken from viewers and the relay that the PTY has not taken yet. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Input from a viewer: refused whole with LIMIT_EXCEEDED when holding it would pass `limitBytes`. */
  typed(bytes: Buffer): void {
    if (this.#pendingBytes + bytes.length > this.limitBytes) {
      throw limitExceeded(
        'terminalInputPendingBytes',
        this.limitBytes,
        `the program in this terminal has not read ${this.#pendingBytes} bytes of earlier input; these ${bytes.length} bytes were dropped`,
      );
    }
    this.write(bytes);
  }

  /** Input of the relay's own (the exec key, an empty line): always taken, in order with everything before it. */
  write(data: Buffer | string): void {
    if (this.#closed) return;
    let bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (bytes.length === 0) return;
    if (this.#pending.length === 0) {
      const written = this.#attempt(bytes);
      if (written === bytes.length || this.#closed) return;
      bytes = bytes.subarray(written);
    }
    // A copy: the caller may reuse its buffer once this returns.
    this.#pending.push(Buffer.from(bytes));
    this.#pendingBytes += bytes.length;
    this.#timer ??= setTimeout(() => this.#flush(), this.#retryMs).unref();
  }

  /** Stops writing; what is held is dropped (the shell is gone). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.#release();
  }

  #flush(): void {
    this.#timer = undefined;
    let progressed = false;
    while (this.#pending.length > 0 && !this.#closed) {
      const head = this.#pending[0]!;
      const written = this.#attempt(head);
      if (this.#closed) return;
      this.#pendingBytes -= written;
      if (written > 0) progressed = true;
      if (written < head.length) {
        this.#pending[0] = head.subarray(written);
        break;
      }
      this.#pending.shift();
    }
    if (this.#pending.length === 0 || this.#closed) {
      this.#retryMs = PTY_INPUT_RETRY_FIRST_MS;
      return;
    }
    this.#retryMs = progressed ? PTY_INPUT_RETRY_FIRST_MS : Math.min(this.#retryMs * 2, PTY_INPUT_RETRY_LONGEST_MS);
    this.#timer = setTimeout(() => this.#flush(), this.#retryMs).unref();
  }

  /** Bytes the PTY took; 0 when it is full. Any other failure (EIO: the terminal's other side is gone) ends the input. */
  #attempt(bytes: Buffer): number {
    try {
      return this.#writeSome(bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      this.close();
      return 0;
    }
  }
}
