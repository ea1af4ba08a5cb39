import { closeSync } from 'node:fs';
import tty from 'node:tty';
import type { IPty } from 'node-pty';
import { nativeFs } from '../sandbox/native.ts';

/** After the shell exits, the longest wait for the rest of its output (the PTY's end) before reading stops. */
export const PTY_DRAIN_AFTER_EXIT_MS = 200;

/** Bytes of terminal output, valid only during the call: the buffer is read into again afterwards. */
export type PtyOutputSink = (view: Buffer) => void;

/**
 * Every PTY of the relay is read into this one buffer. A read's callback consumes it before returning, and no other
 * read can run meanwhile (one thread), so one buffer serves every session: no allocation per read. (A PTY read is at
 * most 4 KiB; the size leaves room for any other kind of descriptor.)
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

interface NodePtyInternals {
  fd?: unknown;
  /** node-pty's own reader of the master descriptor: a tty.ReadStream. */
  _socket?: { destroy(): void };
}

/** After a read that returned nothing (see `PtyOutput`), the first wait before reading again; it doubles while they repeat. */
export const PTY_EMPTY_READ_RETRY_FIRST_MS = 1;
/** The longest of those waits: a PTY that keeps reading nothing is tried 20 times a second until it ends or is closed. */
export const PTY_EMPTY_READ_RETRY_LONGEST_MS = 50;

/**
 * The output side of one shell's PTY, read by the relay itself into a buffer it reuses.
 *
 * node-pty hands every read a new buffer: under a flood, ~12 000 buffers per 50 MiB. V8 counts their memory against
 * the old generation until a collection frees them, and once the young generation has grown to its largest (as a
 * flood makes it), no scavenge comes for seconds: the buffers alone then set off a full mark-compact of the relay's
 * ~21 MB heap every half second (BENCHMARKS.md, issue 21, stop 26). So the relay reads through its own duplicate of
 * the master descriptor, and node-pty's reader is closed before it reads anything (it starts on the next tick).
 * node-pty still spawns and reaps the shell; its descriptor is closed, so its `resize`, `pause` and `resume` are
 * disabled here (and it makes `write` a no-op): input goes through PtyInput, resizing through the relay's descriptor.
 *
 * A read can return nothing before the end: while the kernel hangs up the terminal of a shell that has exited, reads
 * of the master return 0 with the shell's last output still to come (node-pty takes that for the end and loses up to
 * the last ~10 KB a shell printed). Node's stream ends at such a read and reads no more, so the relay opens a new one
 * on a new duplicate, after a backing-off wait, and reads on until EIO: the real end, once every byte was read.
 *
 * A PTY without a descriptor (a test's fake) is read through its `onData`.
 */
export class PtyOutput {
  readonly #pty: IPty;
  readonly #sink: PtyOutputSink;
  /** A PTY without a descriptor (a test's fake): read, paused and resized through node-pty's own methods. */
  readonly #throughNodePty: boolean;
  /** The stream reading now, and its descriptor (the stream closes it); undefined between streams and at the end. */
  #stream: tty.ReadStream | undefined;
  #fd: number | undefined;
  #paused = false;
  #finished = false;
  #retryMs = PTY_EMPTY_READ_RETRY_FIRST_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #resolveEnded!: () => void;
  /** Resolves once the PTY's output ended (every byte read) or the reader was closed. */
  readonly ended: Promise<void>;

  private constructor(pty: IPty, sink: PtyOutputSink, fd: number | undefined) {
    this.#pty = pty;
    this.#sink = sink;
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.#throughNodePty = fd === undefined;
    if (fd === undefined) {
      pty.onData((data) => sink(typeof data === 'string' ? Buffer.from(data, 'utf8') : (data as Buffer)));
      this.#finish();
      return;
    }
    this.#open(fd);
  }

  /**
   * Takes over reading `pty`. Call it after anything else took its own copy of node-pty's descriptor (PtyInput.forPty
   * first): node-pty's descriptor is closed here, and its number may be reused at once.
   */
  static forPty(pty: IPty, sink: PtyOutputSink): PtyOutput {
    const internals = pty as IPty & NodePtyInternals;
    if (typeof internals.fd !== 'number' || !internals._socket) return new PtyOutput(pty, sink, undefined);
    const fd = nativeFs().dupNonblocking(internals.fd);
    internals._socket.destroy();
    // Each would act on a closed descriptor, or on whatever file has its number by then. (node-pty makes its `write` a
    // no-op itself once its reader has closed.)
    for (const method of ['resize', 'pause', 'resume'] as const) {
      (pty as unknown as Record<string, unknown>)[method] = () => {
        throw new Error(`node-pty's ${method}() is disabled: the relay reads and writes this PTY through its own descriptors`);
      };
    }
    return new PtyOutput(pty, sink, fd);
  }

  /** Stops reading (flow control): no read happens until `resume`, so the PTY fills and the program waits. */
  pause(): void {
    if (this.#throughNodePty) return this.#pty.pause();
    this.#paused = true;
    this.#stream?.pause();
  }

  resume(): void {
    if (this.#throughNodePty) return this.#pty.resume();
    this.#paused = false;
    this.#stream?.resume();
  }

  /** The terminal's size, as the program in it sees it (TIOCSWINSZ); nothing once the output has ended. */
  resize(cols: number, rows: number): void {
    if (this.#throughNodePty) return this.#pty.resize(cols, rows);
    // The descriptor is forgotten in the same turn its stream is destroyed: the number is never one reused since.
    if (this.#fd !== undefined) nativeFs().setWindowSize(this.#fd, cols, rows);
  }

  /**
   * Resolves once every byte the shell left in the PTY has been read, or after `PTY_DRAIN_AFTER_EXIT_MS` (a process
   * the shell left behind may hold the PTY open), and stops reading. For after the shell exited: reading resumes if
   * flow control had it paused, so its last output is not lost.
   */
  async drainAfterExit(): Promise<void> {
    if (this.#finished) return;
    this.resume();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, PTY_DRAIN_AFTER_EXIT_MS)))]);
    clearTimeout(timer);
    this.close();
  }

  /** Stops reading and closes the relay's descriptor. */
  close(): void {
    this.#finish();
  }

  #open(fd: number): void {
    this.#fd = fd;
    const stream = new tty.ReadStream(fd, {
      // A read of nothing ends the stream's reading, not this reader (see the class comment): the descriptor stays.
      allowHalfOpen: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (bytes: number, buffer: Buffer) => {
          this.#retryMs = PTY_EMPTY_READ_RETRY_FIRST_MS;
          this.#sink(buffer.subarray(0, bytes));
        },
      },
    } as ConstructorParameters<typeof tty.ReadStream>[1]);
    this.#stream = stream;
    stream.on('end', () => this.#reopen(stream));
    // EIO is how a PTY master ends once the last process holding its other side has gone; any other error ends it too.
    stream.on('error', () => this.#finish());
    // Starts the handle reading through Node's own path, once: the stream then never starts it again by itself (no
    // data is pushed through it), so `pause` stops reading for good until `resume`, even in the turn it was created.
    stream.read(0);
    if (this.#paused) stream.pause();
  }

  /** The stream read nothing: carry on with a new one on a new duplicate, after a wait that backs off. */
  #reopen(stream: tty.ReadStream): void {
    if (this.#finished || stream !== this.#stream || this.#fd === undefined) return;
    let next: number;
    try {
      next = nativeFs().dupNonblocking(this.#fd);
    } catch {
      // Out of descriptors: this PTY's output ends here, rather than an exception in an event handler ending the relay.
      return this.#finish();
    }
    this.#stream = undefined;
    this.#fd = next;
    stream.destroy();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#finished) return;
      try {
        this.#open(next);
      } catch {
        this.#finish();
      }
    }, this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, PTY_EMPTY_READ_RETRY_LONGEST_MS);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#retryTimer);
    if (this.#stream) this.#stream.destroy();
    // Between streams the duplicate is open with no stream to own it.
    else if (this.#fd !== undefined) closeSync(this.#fd);
    this.#stream = undefined;
    this.#fd = undefined;
    this.#resolveEnded();
  }
}
