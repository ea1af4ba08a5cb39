/**
 * While output streams, what arrives within this long is handed to xterm as one write. xterm draws at most once per
 * animation frame, but a flood arriving as many small frames has it parse a little and draw again at every frame:
 * in headless Chromium the drawing then cost several times the parsing (50 MiB of `yes`: ~16 s of browser CPU
 * against ~2.5 s for the same bytes in big writes). Fewer, bigger writes draw fewer times per byte.
 */
export const STREAM_COALESCE_MS = 32;
/** A batch is written at once when it reaches this size: well under the relay's 2 MiB window, so it never stalls. */
export const STREAM_BATCH_BYTES = 192 * 1024;
/** A write at least this big (half a PTY read, which is at most 4095 bytes) means output streams; echoes are never held. */
export const STREAMING_WRITE_BYTES = 2048;

/**
 * Joins live output chunks while the output streams (the previous write was big and recent); writes everything
 * else at once, so an echoed keystroke is never held back.
 */
export class OutputCoalescer {
  readonly #write: (chunks: readonly Uint8Array[], endPosition: number) => void;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #endPosition = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastWriteAt = -Infinity;
  #lastWriteBytes = 0;

  /** @param write  writes the chunks, in order, and counts them rendered up to `endPosition` once xterm has parsed them */
  constructor(write: (chunks: readonly Uint8Array[], endPosition: number) => void) {
    this.#write = write;
  }

  push(bytes: Uint8Array, endPosition: number): void {
    const streaming = this.#bytes > 0 || (this.#lastWriteBytes >= STREAMING_WRITE_BYTES && performance.now() - this.#lastWriteAt < STREAM_COALESCE_MS);
    if (!streaming) {
      this.#emit([bytes], bytes.byteLength, endPosition);
      return;
    }
    this.#chunks.push(bytes);
    this.#bytes += bytes.byteLength;
    this.#endPosition = endPosition;
    if (this.#bytes >= STREAM_BATCH_BYTES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), STREAM_COALESCE_MS);
  }

  /** Writes what is held now (before a new stream starts, so it keeps its place in xterm's queue). */
  flush(): void {
    this.#cancelTimer();
    if (!this.#bytes) return;
    // Handed over as the chunks they came in: xterm queues them and parses them in one go anyway, so joining them
    // would only copy every byte once more.
    const chunks = this.#chunks;
    const bytes = this.#bytes;
    this.#chunks = [];
    this.#bytes = 0;
    this.#emit(chunks, bytes, this.#endPosition);
  }

  dispose(): void {
    this.#cancelTimer();
    this.#chunks = [];
    this.#bytes = 0;
  }

  #emit(chunks: readonly Uint8Array[], bytes: number, endPosition: number): void {
    this.#lastWriteAt = performance.now();
    this.#lastWriteBytes = bytes;
    this.#write(chunks, endPosition);
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
