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
 * phase that read them), and while output streams, those of a few milliseconds. With `FrameBuffers`, a big frame is
 * joined into a reused buffer, and `send` gets a `sent` callback to call once the socket no longer needs the bytes.
 */
export class OutputBatcher {
  readonly #send: (data: Buffer, sent?: () => void) => void;
  readonly #pool: FrameBuffers | undefined;
  #chunks: Buffer[] = [];
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
    this.#chunks.push(data);
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
    const chunks = this.#chunks;
    const bytes = this.#bytes;
    this.#chunks = [];
    this.#bytes = 0;
    if (chunks.length === 1) return this.#send(chunks[0]!);
    const pool = this.#pool;
    const pooled = pool && bytes >= POOLED_FRAME_MIN_BYTES ? pool.take(bytes) : undefined;
    if (!pooled) return this.#send(Buffer.concat(chunks, bytes));
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(pooled, at);
    this.#send(pooled.subarray(0, bytes), () => pool!.give(pooled));
  }

  /** Drops what is pending (the socket is gone). */
  discard(): void {
    this.#cancel();
    this.#chunks = [];
    this.#bytes = 0;
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
