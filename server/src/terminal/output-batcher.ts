/**
 * A frame is sent at most this big. PTY reads are ~4 KiB each, and every WebSocket frame costs a `writev` in the relay
 * and a message task in the browser (Mojo, `MessageEvent`, a copy into an `ArrayBuffer`): 50 MiB as 4 KiB frames spent
 * more time on that than on drawing, and 1 MiB frames gave the element more throughput than 64 KiB ones (BENCHMARKS.md,
 * "Where the time goes": "Fixed, frames"). Flow control still counts every chunk as it arrives, so a frame
 * never carries more than the viewer's window.
 */
export const OUTPUT_FRAME_BYTES = 1024 * 1024;

/**
 * While output streams (a frame of at least `STREAMING_FRAME_BYTES` went out less than this long ago), chunks are
 * collected this long before the next frame: a PTY read is ~4 KiB, so without it a flood is still one small frame per
 * read. Half a display frame: the browser draws at most once per 16.7 ms anyway. Echoes and prompts are smaller frames
 * and are never held.
 */
export const STREAMING_COALESCE_MS = 8;
/** Half a PTY read (reads are at most 4095 bytes): a frame this big means output streams, not an echo or a prompt. */
export const STREAMING_FRAME_BYTES = 2048;

/** A joined frame at least this big is built in a reused buffer (`FrameBuffers`); smaller ones are joined afresh. */
export const POOLED_FRAME_MIN_BYTES = 64 * 1024;
/** Free frame buffers a pool keeps (relay-wide: 4 MiB at most when idle); more are made while frames are in flight. */
export const FRAME_POOL_BUFFERS = 4;

/**
 * Reused buffers for joined frames. A flood sends its output a second time as new 1 MiB buffers, and V8 counts every
 * new buffer as external memory: each 64 MiB of it starts a full mark-compact, which in the relay (a heap over V8's
 * 8 MB activation threshold) cost more than all the relay's own work per MiB. A buffer goes back to the pool once
 * the socket has written the frame (`ws.send`'s callback), never before.
 */
export class FrameBuffers {
  readonly #free: Buffer[] = [];
  /** Buffers made, for tests: a flood through a pool makes a few, not one per frame. */
  made = 0;

  constructor(readonly keep = FRAME_POOL_BUFFERS) {}

  /** A buffer of at least `bytes` (up to `OUTPUT_FRAME_BYTES` + one chunk), or undefined for bigger frames. */
  take(bytes: number): Buffer | undefined {
    if (bytes > POOLED_FRAME_CAPACITY) return undefined;
    const buffer = this.#free.pop();
    if (buffer) return buffer;
    this.made++;
    return Buffer.allocUnsafeSlow(POOLED_FRAME_CAPACITY);
  }

  give(buffer: Buffer): void {
    if (this.#free.length < this.keep) this.#free.push(buffer);
  }
}

/** A frame is flushed once it reaches OUTPUT_FRAME_BYTES, so it is at most that plus one more PTY or FIFO read. */
const POOLED_FRAME_CAPACITY = OUTPUT_FRAME_BYTES + 64 * 1024;

/**
 * Joins output chunks into frames: those of one turn of the event loop (sent from `setImmediate`, after the poll
 * phase that read them), and while output streams, those of a few milliseconds.
 *
 * With `FrameBuffers` (the relay), `push` copies each chunk into the frame as it comes: its caller may reuse the
 * buffer once `push` returns (PTY reads share one, see pty-output.ts), and a flood's bytes are copied once, into memory
 * that is reused. A big frame goes out in its pooled buffer, and `send` gets a `sent` callback to call once the socket
 * no longer needs the bytes; a small one (an echo, a prompt) is copied out so that no pooled buffer waits behind a
 * slow socket for a few bytes. Without a pool (the bench's reference server, whose chunks are node-pty's own) the
 * chunks are kept as given and joined when the frame is sent.
 */
export class OutputBatcher {
  readonly #send: (data: Buffer, sent?: () => void) => void;
  readonly #pool: FrameBuffers | undefined;
  /** Without a pool: the chunks of the pending frame. */
  #chunks: Buffer[] = [];
  /** With a pool: the pending frame's buffer (taken at its first chunk), its first `#bytes` filled. */
  #frame: Buffer | undefined;
  /** `#frame` came from the pool (not a buffer of its own for one big chunk). */
  #framePooled = false;
  #bytes = 0;
  /** The pending flush: an immediate, or a timeout while output streams (each must be cleared by its own kind). */
  #scheduled: { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout } | undefined;
  #lastSentAt = 0;
  #lastFrameBytes = 0;

  constructor(send: (data: Buffer, sent?: () => void) => void, pool?: FrameBuffers) {
    this.#send = send;
    this.#pool = pool;
  }

  /** Bytes accepted but not yet handed to the socket. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  push(data: Buffer): void {
    if (!data.length) return;
    if (this.#pool) this.#copyIn(data, this.#pool);
    else this.#chunks.push(data);
    this.#bytes += data.length;
    if (this.#bytes >= OUTPUT_FRAME_BYTES) this.flush();
    else if (!this.#scheduled) {
      const streaming = this.#lastFrameBytes >= STREAMING_FRAME_BYTES && performance.now() - this.#lastSentAt < STREAMING_COALESCE_MS;
      this.#scheduled = streaming ? { timeout: setTimeout(() => this.flush(), STREAMING_COALESCE_MS) } : { immediate: setImmediate(() => this.flush()) };
    }
  }

  /** Sends what is pending now: before any control message, so frames keep their order. */
  flush(): void {
    this.#cancel();
    if (!this.#bytes) return;
    this.#lastSentAt = performance.now();
    this.#lastFrameBytes = this.#bytes;
    const bytes = this.#bytes;
    this.#bytes = 0;
    const pool = this.#pool;
    if (!pool) {
      const chunks = this.#chunks;
      this.#chunks = [];
      return this.#send(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes));
    }
    // With a pool, a frame with bytes in it always has its buffer (taken by the first chunk).
    const frame = this.#frame!;
    this.#frame = undefined;
    if (!this.#framePooled) return this.#send(frame.subarray(0, bytes));
    if (bytes < POOLED_FRAME_MIN_BYTES) {
      const small = Buffer.from(frame.subarray(0, bytes));
      pool.give(frame);
      return this.#send(small);
    }
    this.#send(frame.subarray(0, bytes), () => pool.give(frame));
  }

  /** Drops what is pending (the socket is gone). */
  discard(): void {
    this.#cancel();
    this.#chunks = [];
    this.#bytes = 0;
    if (this.#frame && this.#framePooled) this.#pool?.give(this.#frame);
    this.#frame = undefined;
  }

  /** Copies `data` into the pending frame, sending that first if `data` does not fit in it. */
  #copyIn(data: Buffer, pool: FrameBuffers): void {
    if (this.#frame && this.#bytes + data.length > this.#frame.length) this.flush();
    // A chunk bigger than a pooled frame (a resume's backlog, say) gets a buffer of its own size.
    if (!this.#frame) {
      const pooled = pool.take(data.length);
      this.#framePooled = pooled !== undefined;
      this.#frame = pooled ?? Buffer.allocUnsafeSlow(data.length);
    }
    data.copy(this.#frame, this.#bytes);
  }

  #cancel(): void {
    // Never clearImmediate() a Timeout: Node then counts one immediate fewer (below zero), marks the Timeout destroyed
    // so clearTimeout() leaves it in its list, and the event loop never exits and polls without sleeping (100% CPU).
    if (this.#scheduled === undefined) return;
    if ('immediate' in this.#scheduled) clearImmediate(this.#scheduled.immediate);
    else clearTimeout(this.#scheduled.timeout);
    this.#scheduled = undefined;
  }
}
