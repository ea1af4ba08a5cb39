/**
 * The last `limitBytes` of a session's terminal output, replayed to a viewer when it attaches so it sees the
 * recent screen and scrollback. Old chunks are dropped whole; the snapshot starts at a line boundary so a viewer
 * never begins in the middle of an escape sequence cut in half.
 */
export class ReplayBuffer {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #trimmed = false;

  constructor(private readonly limitBytes: number) {}

  append(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes > this.limitBytes && this.#chunks.length > 1) {
      this.#bytes -= this.#chunks.shift()!.length;
      this.#trimmed = true;
    }
  }

  snapshot(): Buffer {
    let all = Buffer.concat(this.#chunks);
    if (all.length > this.limitBytes) {
      all = all.subarray(all.length - this.limitBytes);
      this.#trimmed = true;
    }
    if (this.#trimmed) {
      const newline = all.indexOf(0x0a);
      if (newline >= 0) all = all.subarray(newline + 1);
    }
    return all;
  }

  clear(): void {
    this.#chunks = [];
    this.#bytes = 0;
    this.#trimmed = false;
  }
}
