import type { Terminal } from '@xterm/xterm';
import { OutputCoalescer } from './output-coalescer.ts';

/**
 * Acknowledge rendered output at least every this many bytes. The relay pauses the shell when a viewer is more than
 * its high watermark (2 MiB by default; an operator may set it much lower) behind, so acks must come well before that.
 */
export const ACK_EVERY_BYTES = 64 * 1024;
/** …and this long after the last chunk was rendered, when less than `ACK_EVERY_BYTES` arrived. */
export const ACK_DELAY_MS = 100;

/**
 * Writes the relay's output into the terminal and tells the relay how far it has been rendered (`ack`), so a flood
 * of output (`cat` of a big file, `seq 1 3000000`) is paced to what this browser can draw instead of piling up in
 * socket buffers. Positions count every byte the session has shown; each `ready` or `screen` says where they stand.
 */
export class OutputFlow {
  readonly #terminal: Terminal;
  readonly #sendAck: (position: number) => void;
  /** Position of the next byte expected from the relay; undefined while the relay does not report positions. */
  #next: number | undefined;
  #rendered = 0;
  #acked = 0;
  /** Bumped on every new stream (connect, screen), so callbacks of writes from before it are ignored. */
  #stream = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #coalescer = new OutputCoalescer((chunks, endPosition) => this.#write(chunks, endPosition));

  constructor(terminal: Terminal, sendAck: (position: number) => void) {
    this.#terminal = terminal;
    this.#sendAck = sendAck;
  }

  /**
   * Position just after the last byte handed to the terminal: the cursor to resume from after a reconnect. Not the
   * rendered or acked one: xterm keeps its write queue across a reconnect, so what it has been given will be drawn.
   * Undefined until the relay has reported a position.
   */
  get position(): number | undefined {
    return this.#next;
  }

  /** A new stream starts at `position` (from `ready`); undefined for a relay that does not count positions. */
  start(position: number | undefined): void {
    // Held output belongs to the old stream: written now, like xterm's own queue, its callbacks no longer count.
    this.#coalescer.flush();
    this.#stream++;
    this.#cancelTimer();
    this.#next = position;
    this.#rendered = this.#acked = position ?? 0;
  }

  /**
   * The relay resumed this stream after a reconnect: output continues at `position` (our cursor). Writes still
   * queued in xterm belong to the same stream, so their callbacks keep counting.
   */
  resume(position: number): void {
    this.#cancelTimer();
    this.#next = position;
    // The relay takes the cursor as acknowledged (docs/protocol.md, "Flow control").
    this.#acked = Math.max(this.#acked, position);
  }

  /** Replaces the screen with the relay's snapshot of it; output continues from `position`. */
  screen(data: string, position: number): void {
    this.start(position);
    this.#terminal.reset();
    this.#write([data], position);
  }

  /** Live output (or, from an older relay, the replay after `ready`). */
  output(bytes: Uint8Array): void {
    if (this.#next === undefined) {
      this.#terminal.write(bytes);
      return;
    }
    this.#next += bytes.byteLength;
    this.#coalescer.push(bytes, this.#next);
  }

  dispose(): void {
    this.#stream++;
    this.#cancelTimer();
    this.#coalescer.dispose();
  }

  #write(chunks: ReadonlyArray<Uint8Array | string>, endPosition: number): void {
    const stream = this.#stream;
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) this.#terminal.write(chunks[i]!);
    this.#terminal.write(chunks[last]!, () => {
      if (stream === this.#stream) this.#renderedUpTo(endPosition);
    });
  }

  #renderedUpTo(position: number): void {
    this.#rendered = Math.max(this.#rendered, position);
    if (this.#rendered - this.#acked >= ACK_EVERY_BYTES) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), ACK_DELAY_MS);
  }

  #flush(): void {
    this.#cancelTimer();
    if (this.#rendered <= this.#acked) return;
    this.#acked = this.#rendered;
    this.#sendAck(this.#acked);
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
