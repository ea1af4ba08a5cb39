import { FifoQueue } from './fifo-queue.ts';

/**
 * A session's terminal output with positions: byte N of everything the session ever showed has position N.
 * Keeps the last `limitBytes` (whole chunks are dropped from the front) so a viewer that reconnects with the
 * position it has rendered gets exactly the bytes after it: no gap, no duplicate. It never drops a byte at or after
 * `retainFrom()`: the screen mirror's snapshot position, since a snapshot is only whole with the bytes after it
 * (flow control keeps that backlog small; a burst read before the mirror parsed any of it must still be kept).
 */
export class OutputLog {
  readonly #chunks = new FifoQueue<Buffer>();
  #bytes = 0;
  /** Position of the oldest byte still kept. */
  start: number;
  /** Position just after the newest byte (the total ever appended). */
  end: number;

  constructor(
    private readonly limitBytes: number,
    initialPosition = 0,
    private readonly retainFrom: () => number = () => Number.POSITIVE_INFINITY,
  ) {
    this.start = initialPosition;
    this.end = initialPosition;
  }

  append(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    this.end += chunk.length;
    if (this.#bytes <= this.limitBytes) return;
    const retainFrom = this.retainFrom();
    while (this.#bytes > this.limitBytes && this.#chunks.length > 1 && this.start + this.#chunks.at(0)!.length <= retainFrom) {
      const dropped = this.#chunks.shift()!;
      this.#bytes -= dropped.length;
      this.start += dropped.length;
    }
  }

  /** The bytes from `position` to the end, or undefined when `position` is not in the log. */
  readFrom(position: number): Buffer | undefined {
    if (!Number.isInteger(position) || position < this.start || position > this.end) return undefined;
    let skip = position - this.start;
    const parts: Buffer[] = [];
    for (const chunk of this.#chunks) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      parts.push(skip ? chunk.subarray(skip) : chunk);
      skip = 0;
    }
    return Buffer.concat(parts);
  }
}
