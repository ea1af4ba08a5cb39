export type ScanSegment = { kind: 'data'; data: Buffer } | { kind: 'marker'; payload: string };

const NOTHING_HELD = Buffer.alloc(0);

/**
 * Finds in-band markers (`prefix … terminator`) in a byte stream that arrives in arbitrary chunks, and splits the
 * stream into data and markers in order. A marker split across chunks is held back until it is complete; bytes
 * that only look like the start of a marker are released as data once they turn out not to be one.
 *
 * Used on the PTY stream (the shell's OSC 6973 prompt/exec markers) and on the exec output FIFOs (end markers).
 */
export class MarkerScanner {
  readonly #prefix: Buffer;
  readonly #terminator: Buffer;
  readonly #maxPayloadBytes: number;
  #held: Buffer = NOTHING_HELD;

  constructor(prefix: string, terminator: string, maxPayloadBytes = 128) {
    this.#prefix = Buffer.from(prefix, 'latin1');
    this.#terminator = Buffer.from(terminator, 'latin1');
    this.#maxPayloadBytes = maxPayloadBytes;
  }

  push(chunk: Buffer): ScanSegment[] {
    // Most chunks of a flood hold no byte that can start a marker: one memchr, and they pass as they are.
    if (!this.#held.length && chunk.indexOf(this.#prefix[0]!) < 0) return chunk.length ? [{ kind: 'data', data: chunk }] : [];
    const buffer = this.#held.length ? Buffer.concat([this.#held, chunk]) : chunk;
    this.#held = NOTHING_HELD;
    const segments: ScanSegment[] = [];
    let dataStart = 0;
    let searchFrom = 0;
    for (;;) {
      const start = buffer.indexOf(this.#prefix, searchFrom);
      if (start < 0) {
        // Hold back a tail that could be the beginning of a prefix cut by the chunk boundary.
        const keep = Math.min(partialPrefixLength(buffer, this.#prefix), buffer.length - dataStart);
        pushData(segments, buffer.subarray(dataStart, buffer.length - keep));
        if (keep) this.#held = Buffer.from(buffer.subarray(buffer.length - keep));
        return segments;
      }
      const payloadStart = start + this.#prefix.length;
      const end = buffer.indexOf(this.#terminator, payloadStart);
      if (end < 0) {
        if (buffer.length - payloadStart <= this.#maxPayloadBytes) {
          pushData(segments, buffer.subarray(dataStart, start));
          this.#held = Buffer.from(buffer.subarray(start));
          return segments;
        }
        searchFrom = start + 1; // too long to be ours: it is data
        continue;
      }
      if (end - payloadStart > this.#maxPayloadBytes) {
        searchFrom = start + 1;
        continue;
      }
      pushData(segments, buffer.subarray(dataStart, start));
      segments.push({ kind: 'marker', payload: buffer.toString('latin1', payloadStart, end) });
      dataStart = end + this.#terminator.length;
      searchFrom = dataStart;
    }
  }

  /** Whether bytes are held back waiting for the rest of a possible marker. */
  get holding(): boolean {
    return this.#held.length > 0;
  }

  /** Releases whatever is held back (at the end of a stream). */
  flush(): Buffer {
    const held = this.#held;
    this.#held = NOTHING_HELD;
    return held;
  }
}

function pushData(segments: ScanSegment[], data: Buffer): void {
  if (data.length) segments.push({ kind: 'data', data });
}

/** The longest end of `buffer` that is a beginning of `prefix` (and not all of it). */
function partialPrefixLength(buffer: Buffer, prefix: Buffer): number {
  const max = Math.min(prefix.length - 1, buffer.length);
  for (let length = max; length > 0; length--) {
    let matches = true;
    for (let i = 0, at = buffer.length - length; i < length && matches; i++, at++) matches = buffer[at] === prefix[i];
    if (matches) return length;
  }
  return 0;
}
