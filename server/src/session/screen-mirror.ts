import serializePackage from '@xterm/addon-serialize';
import headlessPackage from '@xterm/headless';
import { FifoQueue } from './fifo-queue.ts';
import { fastForwardLines, fastForwardScan } from './screen-fast-forward.ts';

const { Terminal } = headlessPackage;
const { SerializeAddon } = serializePackage;
type HeadlessTerminal = InstanceType<typeof Terminal>;

/** Scrollback lines a mirror keeps and a restored screen carries. */
export const SCREEN_SCROLLBACK_LINES = 1000;

/**
 * How far the mirror may fall behind the output before it parses: a flood is then parsed in large runs, most of
 * which can be skipped (`screen-fast-forward.ts`), instead of costing the relay a second terminal's worth of CPU.
 * A session caps it at a quarter of its output log (`SessionOutput`), because the log must hold every unparsed byte.
 */
export const MIRROR_LAG_BYTES = 1024 * 1024;
/** Output quiet this long is parsed at once: a prompt or an echo is in the mirror a few milliseconds later. */
export const MIRROR_QUIET_MS = 10;
/** Bytes per xterm write: xterm parses a write whole, so this bounds one parse step (~1 ms of plain text). */
const PARSE_PIECE_BYTES = 32 * 1024;
/**
 * Parse steps run back to back for at most this long, then the mirror yields the event loop: a flood in one session
 * must not hold up the echo of another (xterm on its own parses for 12 ms at a time).
 */
const PARSE_SLICE_MS = 3;

/**
 * A queue this big is worth scanning for plain text to skip, whatever made the mirror parse (lag, quiet output, a
 * wait): a skip needs ~1 000 lines anyway, and a flood paused by flow control goes quiet with up to `lagBytes` queued.
 */
const FAST_FORWARD_MIN_BYTES = 64 * 1024;

const CRLF = Buffer.from('\r\n');

export interface ScreenSnapshot {
  /** Escape sequences that rebuild the screen (alternate screen and modes included) in an empty terminal. */
  data: string;
  /** Output position the snapshot corresponds to: live output continues from here. */
  position: number;
}

/** A resize, queued behind the output that came before it. */
interface QueuedResize {
  cols: number;
  rows: number;
}

/**
 * Whether skipping plain text is exact from here (see `screen-fast-forward.ts`): the parser is in its ground state
 * and the scroll region is the whole screen. xterm has no public API for either, so both are read from its
 * internals, defensively: where they are missing, the mirror parses everything, as before.
 */
function canFastForward(terminal: HeadlessTerminal): boolean {
  const core = (terminal as unknown as { _core?: Record<string, any> })._core;
  const buffer = core?._bufferService?.buffer;
  return core?._inputHandler?._parser?.currentState === 0 && buffer?.scrollTop === 0 && buffer?.scrollBottom === terminal.rows - 1;
}

/**
 * A headless xterm fed with everything a session shows, so a new viewer, a viewer that fell behind the output
 * log, or a session recreated after sleep starts from the exact current screen instead of a garbled replay.
 *
 * It parses lazily: output is queued until `lagBytes` are waiting or the output goes quiet, and a snapshot stands
 * for the position parsed so far (the output log supplies the bytes after it). While a plain flood lasts it only
 * skips (`screen-fast-forward.ts`) and parses nothing: a snapshot then is the screen parsed so far and the `\r\n`
 * that stands for what was skipped, at the position where the kept output begins; the kept lines are parsed once
 * the output is quiet or something waits for them.
 */
export class ScreenMirror {
  readonly #terminal: HeadlessTerminal;
  readonly #serializer;
  readonly #lagBytes: number;
  /** Position up to which the headless terminal has parsed the output (advanced by write callbacks). */
  #parsedPosition: number;
  /**
   * Output up to here was skipped since the last parse: the terminal's state plus a `\r\n` is the state there (the
   * `\r\n` goes to xterm with the next piece, and this is cleared once that piece is parsed).
   */
  #skippedTo: number | undefined;
  #writtenPosition: number;
  /** Output and resizes not handed to xterm yet, in order. */
  readonly #queue = new FifoQueue<Buffer | QueuedResize>();
  #queuedBytes = 0;
  /** Output up to here is parsed without waiting for more (quiet output, a resize, `settled()`). */
  #parseUntil: number;
  /** A piece is in xterm and not parsed yet. */
  #parsing = false;
  #yielded: NodeJS.Immediate | undefined;
  #quietTimer: NodeJS.Timeout | undefined;
  #lastWriteAt = 0;
  /**
   * After a scan that found nothing to skip, the next waits until the output that ended the plain run is parsed
   * (`#nextFastForwardFed`), or, when the plain run was all of the queue, for more output (`#nextFastForwardWritten`):
   * a flood that is not plain (colours on every line) must not be scanned again for every piece parsed.
   */
  #nextFastForwardFed = 0;
  #nextFastForwardWritten = 0;
  #waiters: Array<{ position: number; resolve: (snapshot: ScreenSnapshot) => void }> = [];
  /** A screen loaded from storage, stood for until the terminal has parsed it. */
  #loading: ScreenSnapshot | undefined;
  /** Bytes skipped by fast-forwarding (tests check that the skip happens). */
  skippedBytes = 0;
  readonly #onCaughtUp: () => void;

  /**
   * @param lagBytes  how far behind the mirror may fall before it parses (see `MIRROR_LAG_BYTES`)
   * @param onCaughtUp  called when a parse run ends (flow control waits on the mirror's backlog)
   */
  constructor(cols: number, rows: number, options: { position?: number; lagBytes?: number; onCaughtUp?: () => void } = {}) {
    this.#terminal = new Terminal({ cols, rows, scrollback: SCREEN_SCROLLBACK_LINES, allowProposedApi: true });
    this.#serializer = new SerializeAddon();
    this.#terminal.loadAddon(this.#serializer);
    this.#parsedPosition = this.#writtenPosition = this.#parseUntil = options.position ?? 0;
    this.#lagBytes = options.lagBytes ?? MIRROR_LAG_BYTES;
    this.#onCaughtUp = options.onCaughtUp ?? (() => {});
  }

  write(chunk: Buffer): void {
    if (!chunk.length) return;
    this.#writtenPosition += chunk.length;
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.length;
    this.#lastWriteAt = performance.now();
    if (this.#queuedBytes >= this.#lagBytes) this.#parse();
    else this.#quietTimer ??= setTimeout(() => this.#onQuietCheck(), MIRROR_QUIET_MS);
  }

  /** Bytes written that the mirror still needs (not parsed, and not skipped): the output log must hold them. */
  get backlog(): number {
    return this.#writtenPosition - (this.#skippedTo ?? this.#parsedPosition);
  }

  /** How far behind the mirror falls by design before it parses. */
  get lagBytes(): number {
    return this.#lagBytes;
  }

  /** Loads a saved screen (after a relay restart) as the state at `position`. */
  load(snapshot: ScreenSnapshot): void {
    this.#terminal.reset();
    this.#queue.clear();
    this.#queuedBytes = 0;
    this.#writtenPosition = this.#parsedPosition = this.#parseUntil = snapshot.position;
    this.#skippedTo = undefined;
    this.#loading = snapshot;
    this.#terminal.write(snapshot.data, () => {
      if (this.#loading === snapshot) this.#loading = undefined;
      this.#resolveWaiters();
    });
  }

  /** Resizes once the output written before it is parsed (it was laid out at the old size). */
  resize(cols: number, rows: number): void {
    this.#queue.push({ cols, rows });
    this.#parseUntil = this.#writtenPosition;
    this.#parse();
  }

  /**
   * The screen as parsed so far. Pieces are parsed whole between macrotasks, so the buffer is exactly the state
   * after the output ending at the parsed position; the output log supplies everything after it.
   */
  snapshot(): ScreenSnapshot {
    // Until a loaded screen is parsed, it is the truth (output after it is in the log from its position on).
    if (this.#loading) return this.#loading;
    const data = this.#serializer.serialize({ scrollback: SCREEN_SCROLLBACK_LINES });
    if (this.#skippedTo !== undefined) return { data: `${data}\r\n`, position: this.#skippedTo };
    return { data, position: this.#parsedPosition };
  }

  /** Parses everything written so far and resolves with the screen then (saving a session, tests). */
  settled(): Promise<ScreenSnapshot> {
    const position = this.#writtenPosition;
    this.#parseUntil = position;
    return new Promise((resolve) => {
      this.#waiters.push({ position, resolve });
      this.#resolveWaiters();
      this.#parse();
    });
  }

  dispose(): void {
    clearTimeout(this.#quietTimer);
    clearImmediate(this.#yielded);
    this.#queue.clear();
    this.#terminal.dispose();
  }

  #onQuietCheck(): void {
    this.#quietTimer = undefined;
    const quietFor = performance.now() - this.#lastWriteAt;
    if (quietFor < MIRROR_QUIET_MS) {
      this.#quietTimer = setTimeout(() => this.#onQuietCheck(), MIRROR_QUIET_MS - quietFor);
      return;
    }
    this.#parseUntil = this.#writtenPosition;
    this.#parse();
  }

  /** Hands xterm the next piece, unless one is being parsed or nothing needs parsing yet. */
  #parse(sliceStart = performance.now()): void {
    if (this.#parsing || this.#yielded) return;
    for (;;) {
      const head = this.#queue.at(0);
      // Skipping first: a mirror that fell behind during a flood then has only the kept lines left, and parses them
      // only when asked to (quiet output, a wait) or when it falls behind again without anything to skip.
      if (Buffer.isBuffer(head) && this.#queuedBytes >= FAST_FORWARD_MIN_BYTES && !this.#loading && this.#fastForward()) continue;
      const fedPosition = this.#writtenPosition - this.#queuedBytes;
      if (head === undefined || (fedPosition >= this.#parseUntil && this.#queuedBytes < this.#lagBytes)) {
        this.#resolveWaiters();
        this.#onCaughtUp();
        return;
      }
      if (!Buffer.isBuffer(head)) {
        this.#queue.shift();
        this.#terminal.resize(head.cols, head.rows);
        continue;
      }
      const afterSkip = this.#skippedTo !== undefined;
      const piece = this.#takePiece();
      const end = this.#writtenPosition - this.#queuedBytes;
      this.#parsing = true;
      // The skipped text ended with a \r\n, which the kept text must follow (see screen-fast-forward.ts); one write,
      // so no snapshot can fall between the two.
      this.#terminal.write(afterSkip ? Buffer.concat([CRLF, piece]) : piece, () => {
        this.#parsing = false;
        this.#parsedPosition = end;
        if (afterSkip) this.#skippedTo = undefined;
        this.#resolveWaiters();
        if (performance.now() - sliceStart < PARSE_SLICE_MS) this.#parse(sliceStart);
        else {
          this.#yielded = setImmediate(() => {
            this.#yielded = undefined;
            this.#parse();
          });
        }
      });
      return;
    }
  }

  /** Drops the plain text at the head of the queue that cannot reach a snapshot; true when something was dropped. */
  #fastForward(): boolean {
    const fedPosition = this.#writtenPosition - this.#queuedBytes;
    if (fedPosition < this.#nextFastForwardFed || this.#writtenPosition < this.#nextFastForwardWritten || !canFastForward(this.#terminal)) return false;
    const { cut, plainBytes } = fastForwardScan(this.#queue.leading(Buffer.isBuffer), fastForwardLines(this.#terminal.rows, SCREEN_SCROLLBACK_LINES));
    if (cut === undefined) {
      if (plainBytes < this.#queuedBytes) this.#nextFastForwardFed = fedPosition + plainBytes + 1;
      else this.#nextFastForwardWritten = this.#writtenPosition + FAST_FORWARD_MIN_BYTES;
      return false;
    }
    this.skippedBytes += cut;
    this.#queuedBytes -= cut;
    this.#skippedTo = this.#writtenPosition - this.#queuedBytes;
    let left = cut;
    while (left > 0) {
      const head = this.#queue.at(0) as Buffer;
      if (head.length > left) {
        this.#queue.replaceFirst(head.subarray(left));
        break;
      }
      this.#queue.shift();
      left -= head.length;
    }
    return true;
  }

  /** Up to `PARSE_PIECE_BYTES` of output from the head of the queue (never across a resize). */
  #takePiece(): Buffer {
    const parts: Buffer[] = [];
    let bytes = 0;
    for (let head = this.#queue.at(0); bytes < PARSE_PIECE_BYTES && Buffer.isBuffer(head); head = this.#queue.at(0)) {
      const take = Math.min(head.length, PARSE_PIECE_BYTES - bytes);
      parts.push(take === head.length ? head : head.subarray(0, take));
      if (take === head.length) this.#queue.shift();
      else this.#queue.replaceFirst(head.subarray(take));
      bytes += take;
    }
    this.#queuedBytes -= bytes;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
  }

  #resolveWaiters(): void {
    if (this.#loading || !this.#waiters.length) return;
    // A resize queued at the waited-for position is part of what was written before the wait.
    const resizePending = this.#queue.length > 0 && !Buffer.isBuffer(this.#queue.at(0));
    const ready = this.#waiters.filter((waiter) => this.#parsedPosition >= waiter.position && !(resizePending && this.#parsedPosition === waiter.position));
    if (!ready.length) return;
    this.#waiters = this.#waiters.filter((waiter) => !ready.includes(waiter));
    const snapshot = this.snapshot();
    for (const waiter of ready) waiter.resolve(snapshot);
  }
}
