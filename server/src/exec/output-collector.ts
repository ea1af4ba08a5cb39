import { StringDecoder } from 'node:string_decoder';

/**
 * One output stream of one exec: keeps at most `limitBytes` (the rest is drained and dropped, `truncated` set),
 * and turns chunks into text for streaming without splitting a multi-byte UTF-8 character between events.
 */
export class OutputCollector {
  readonly #chunks: Buffer[] = [];
  readonly #decoder = new StringDecoder('utf8');
  #bytes = 0;
  truncated = false;

  constructor(private readonly limitBytes: number) {}

  /** Adds a chunk; returns the part of it as text for a stream event ('' when nothing was kept). */
  add(chunk: Buffer): string {
    const room = this.limitBytes - this.#bytes;
    if (room <= 0) {
      this.truncated = true;
      return '';
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept.length < chunk.length) this.truncated = true;
    this.#chunks.push(Buffer.from(kept));
    this.#bytes += kept.length;
    return this.#decoder.write(kept);
  }

  /** The rest of a character held back by the streaming decoder. */
  flushText(): string {
    return this.#decoder.end();
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}
