/** The smallest ring a log allocates: an idle session's prompt and echoes fit, and 1 000 of them cost 4 MiB. */
const MIN_RING_BYTES = 4 * 1024;

/**
 * A session's terminal output with positions: byte N of everything the session ever showed has position N.
 * Keeps the last `limitBytes` so a viewer that reconnects with the position it has rendered gets exactly the bytes
 * after it: no gap, no duplicate. It never drops a byte at or after `retainFrom()`: the screen mirror's snapshot
 * position, since a snapshot is only whole with the bytes after it (flow control keeps that backlog small; a burst
 * read before the mirror parsed any of it must still be kept).
 *
 * The bytes are copied into one ring buffer rather than kept as the PTY's read buffers: a log holding a flood's last
 * 4 MiB as ~1 000 read buffers kept each of them alive long enough to be promoted to V8's old generation, whose
 * external bytes then set off a full mark-compact every few megabytes (a third of the relay's CPU under a flood of
 * short lines, on its helper threads and its main thread). One memcpy per read costs far less. The ring grows by
 * doubling from `MIN_RING_BYTES` to `limitBytes`, so an idle session's log stays small.
 */
export class OutputLog {
  #ring: Buffer = Buffer.alloc(0);
  /** Ring index of the byte at position `start`. */
  #head = 0;
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

  /** Bytes kept now. */
  get size(): number {
    return this.end - this.start;
  }

  /** Bytes the ring has room for (it grows as output comes, up to the limit, or past it while the mirror needs it). */
  get capacity(): number {
    return this.#ring.length;
  }

  /**
   * Appends `chunk`. `onStored` gets the bytes as the ring holds them (one view, or two across its end): the screen
   * mirror queues those instead of the chunk, so no read buffer outlives its turn of the event loop. A view stays
   * valid while its bytes are at or after `retainFrom()`: they are never overwritten, and a ring that grows leaves
   * them in the old one.
   */
  append(chunk: Buffer, onStored?: (view: Buffer) => void): void {
    if (!chunk.length) return;
    const newEnd = this.end + chunk.length;
    let newStart = Math.max(this.start, newEnd - this.limitBytes);
    // Never past what the mirror still needs; retainFrom() is only asked when something would be dropped.
    if (newStart > this.start) newStart = Math.min(newStart, Math.max(this.start, this.retainFrom()));
    if (newEnd - newStart > this.#ring.length) this.#grow(newEnd - newStart, newStart);
    this.#drop(newStart);
    // A chunk bigger than the limit leaves only its tail.
    const kept = newStart > this.end ? chunk.subarray(newStart - this.end) : chunk;
    if (newStart > this.end) {
      this.start = this.end = newStart;
      this.#head = 0;
    }
    const at = this.#copyIn(kept);
    this.end = newEnd;
    if (!onStored) return;
    // Only a chunk bigger than the limit, with nothing retained, is not kept whole: its caller gets it as it came.
    if (kept !== chunk) return onStored(chunk);
    const capacity = this.#ring.length;
    const first = Math.min(chunk.length, capacity - at);
    onStored(this.#ring.subarray(at, at + first));
    if (first < chunk.length) onStored(this.#ring.subarray(0, chunk.length - first));
  }

  /** The bytes from `position` to the end (a copy), or undefined when `position` is not in the log. */
  readFrom(position: number): Buffer | undefined {
    if (!Number.isInteger(position) || position < this.start || position > this.end) return undefined;
    const length = this.end - position;
    const out = Buffer.allocUnsafe(length);
    this.#copyOut(out, position - this.start, length);
    return out;
  }

  #drop(newStart: number): void {
    if (newStart <= this.start) return;
    const dropped = Math.min(newStart, this.end) - this.start;
    if (this.#ring.length) this.#head = (this.#head + dropped) % this.#ring.length;
    this.start += dropped;
  }

  /** A ring of at least `bytes` (doubling, at most the limit unless more must be kept), holding the bytes from `from`. */
  #grow(bytes: number, from: number): void {
    let capacity = Math.max(MIN_RING_BYTES, this.#ring.length);
    while (capacity < bytes) capacity *= 2;
    // Past the limit only while the mirror needs it, and then with room to spare: not a copy of the ring per read.
    if (capacity > this.limitBytes) capacity = bytes > this.limitBytes ? bytes + (bytes >> 1) : this.limitBytes;
    const ring = Buffer.allocUnsafeSlow(capacity);
    const keepFrom = Math.min(Math.max(from, this.start), this.end);
    const kept = this.end - keepFrom;
    this.#copyOut(ring, keepFrom - this.start, kept);
    this.#ring = ring;
    this.#head = 0;
    this.start = keepFrom;
  }

  /** Copies `data` in after the last byte kept (the caller made room); returns the ring index it starts at. */
  #copyIn(data: Buffer): number {
    const capacity = this.#ring.length;
    const at = (this.#head + (this.end - this.start)) % capacity;
    const first = Math.min(data.length, capacity - at);
    data.copy(this.#ring, at, 0, first);
    if (first < data.length) data.copy(this.#ring, 0, first);
    return at;
  }

  /** Copies `length` bytes from `offset` bytes after `start` into the front of `out`. */
  #copyOut(out: Buffer, offset: number, length: number): void {
    if (!length) return;
    const capacity = this.#ring.length;
    const at = (this.#head + offset) % capacity;
    const first = Math.min(length, capacity - at);
    this.#ring.copy(out, 0, at, at + first);
    if (first < length) this.#ring.copy(out, first, 0, length - first);
  }
}
