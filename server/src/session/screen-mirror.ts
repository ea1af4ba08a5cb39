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
/**
 * More output than this queued is a flood, not a prompt or an echo: it is parsed only once the output has been quiet
 * for `MIRROR_FLOOD_QUIET_MS`. A flood that flow control paces to a browser goes quiet for 10–50 ms at a time, and
 * parsing the queue at each of those pauses had the relay parse most of the flood (a tenth of its CPU under a flood).
 */
export const MIRROR_QUIET_PARSE_BYTES = 16 * 1024;
export const MIRROR_FLOOD_QUIET_MS = 250;
/** Bytes per xterm write: xterm parses a write whole, so this bounds one parse step (~1 ms of plain text). */
const PARSE_PIECE_BYTES = 32 * 1024;
/**
 * Parse steps run back to back for at most this long, then the mirror yields the event loop: a flood in one session
 * must not hold up the echo of another (xterm on its own parses for 12 ms at a time).
 */
const PARSE_SLICE_MS = 3;

/**
 * A resting mirror has no headless terminal (~200 KiB of the ~260 KiB an idle session cost the relay): only the
 * snapshot it rests with and the output queued since. A mirror starts resting, and rests again once its output has
 * been quiet this long at a state a snapshot rebuilds exactly (see `#canRest`).
 */
export const MIRROR_REST_AFTER_MS = 30_000;
/**
 * Output a resting mirror queues before it wakes (a resize or `settled()` wakes it too). Meanwhile a snapshot is the
 * screen it rests with, at the position it was parsed to, and the output log supplies the bytes after it.
 */
export const MIRROR_RESTING_QUEUE_BYTES = 64 * 1024;

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
 *
 * An idle session's mirror rests (`MIRROR_REST_AFTER_MS`): it frees its terminal and keeps its snapshot, queues
 * quiet output (up to `MIRROR_RESTING_QUEUE_BYTES`) and rebuilds the terminal from the snapshot when more output, a
 * resize or `settled()` needs it. A mirror starts resting, so a session nobody watches costs a few KiB, not ~200.
 */
export class ScreenMirror {
  /** The headless terminal, or, while the mirror rests, its size and the snapshot it is rebuilt from. */
  #terminal: HeadlessTerminal | undefined;
  #serializer: InstanceType<typeof SerializeAddon> | undefined;
  #resting: { cols: number; rows: number; data: string } | undefined;
  #restTimer: NodeJS.Timeout | undefined;
  readonly #restAfterMs: number;
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
   * @param restAfterMs  quiet time after which the mirror rests (see `MIRROR_REST_AFTER_MS`); 0: it never rests
   */
  constructor(cols: number, rows: number, options: { position?: number; lagBytes?: number; onCaughtUp?: () => void; restAfterMs?: number } = {}) {
    this.#restAfterMs = options.restAfterMs ?? MIRROR_REST_AFTER_MS;
    if (this.#restAfterMs > 0) this.#resting = { cols, rows, data: '' };
    else this.#openTerminal(cols, rows);
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
    // Resting, quiet output stays queued: a prompt or an echo does not bring the terminal back.
    if (this.#resting) {
      if (this.#queuedBytes >= Math.min(MIRROR_RESTING_QUEUE_BYTES, this.#lagBytes)) this.#parse();
    } else if (this.#queuedBytes >= this.#lagBytes) this.#parse();
    else this.#quietTimer ??= setTimeout(() => this.#onQuietCheck(), MIRROR_QUIET_MS);
  }

  /** Bytes written that the mirror still needs (not parsed, and not skipped): the output log must hold them. */
  get backlog(): number {
    return this.#writtenPosition - (this.#skippedTo ?? this.#parsedPosition);
  }

  /** The position a snapshot taken now stands at: the output log must keep every byte from here. */
  get snapshotPosition(): number {
    return this.#skippedTo ?? this.#parsedPosition;
  }

  /** How far behind the mirror falls by design before it parses. */
  get lagBytes(): number {
    return this.#lagBytes;
  }

  /** Whether the mirror rests: it has no terminal until enough output, a resize or `settled()` needs one. */
  get resting(): boolean {
    return this.#resting !== undefined;
  }

  /** Loads a saved screen (after a relay restart) as the state at `position`. */
  load(snapshot: ScreenSnapshot): void {
    this.#queue.clear();
    this.#queuedBytes = 0;
    this.#skippedTo = undefined;
    this.#writtenPosition = this.#parsedPosition = this.#parseUntil = snapshot.position;
    // Resting, the saved screen is simply the one it rests with.
    if (this.#resting) {
      this.#resting = { ...this.#resting, data: snapshot.data };
      this.#resolveWaiters();
      return;
    }
    const terminal = this.#terminal!;
    terminal.reset();
    this.#loading = snapshot;
    terminal.write(snapshot.data, () => {
      if (this.#loading === snapshot) this.#loading = undefined;
      this.#resolveWaiters();
      this.#parse();
    });
  }

  /** Resizes once the output written before it is parsed (it was laid out at the old size). */
  resize(cols: number, rows: number): void {
    if (this.#resting) {
      // Nothing to lay out again yet: a resting mirror with an empty screen just takes the size (a new session's
      // first resize); otherwise the resize waits in the queue, behind the output written before it.
      if (!this.#resting.data && !this.#queue.length) this.#resting = { ...this.#resting, cols, rows };
      else this.#queue.push({ cols, rows });
      return;
    }
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
    // Resting, the terminal's state is its snapshot at the parsed position (output after it is only queued).
    if (this.#resting) return { data: this.#resting.data, position: this.#parsedPosition };
    const data = this.#serializer!.serialize({ scrollback: SCREEN_SCROLLBACK_LINES });
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

  /** Frees the terminal; whoever still waits in `settled()` gets the screen as parsed so far, not a promise for ever. */
  dispose(): void {
    if (this.#waiters.length) {
      const snapshot = this.snapshot();
      for (const waiter of this.#waiters.splice(0)) waiter.resolve(snapshot);
    }
    clearTimeout(this.#quietTimer);
    clearTimeout(this.#restTimer);
    clearImmediate(this.#yielded);
    this.#queue.clear();
    this.#terminal?.dispose();
    this.#terminal = this.#serializer = this.#resting = undefined;
  }

  #openTerminal(cols: number, rows: number): HeadlessTerminal {
    const terminal = new Terminal({ cols, rows, scrollback: SCREEN_SCROLLBACK_LINES, allowProposedApi: true });
    this.#serializer = new SerializeAddon();
    terminal.loadAddon(this.#serializer);
    this.#terminal = terminal;
    return terminal;
  }

  /**
   * The terminal, rebuilt from the resting snapshot if the mirror rests: the snapshot stands (as a loaded screen
   * does) until xterm has parsed it, and the output queued behind it is parsed after it, in order.
   */
  #awake(): HeadlessTerminal {
    const resting = this.#resting;
    if (!resting) return this.#terminal!;
    this.#resting = undefined;
    const terminal = this.#openTerminal(resting.cols, resting.rows);
    if (!resting.data) return terminal;
    const standIn: ScreenSnapshot = { data: resting.data, position: this.#parsedPosition };
    this.#loading = standIn;
    terminal.write(resting.data, () => {
      if (this.#loading === standIn) this.#loading = undefined;
      this.#resolveWaiters();
      this.#parse();
    });
    return terminal;
  }

  /** After a parse run caught up: rest once the output stays quiet for `restAfterMs`. */
  #scheduleRest(): void {
    if (this.#restTimer || this.#resting || !this.#terminal || this.#restAfterMs <= 0) return;
    const check = () => {
      this.#restTimer = undefined;
      if (this.#resting || !this.#terminal) return;
      const quietFor = performance.now() - this.#lastWriteAt;
      if (quietFor < this.#restAfterMs) {
        this.#restTimer = setTimeout(check, this.#restAfterMs - quietFor);
        this.#restTimer.unref();
        return;
      }
      if (this.#canRest(this.#terminal)) this.#rest(this.#terminal);
    };
    this.#restTimer = setTimeout(check, this.#restAfterMs);
    this.#restTimer.unref();
  }

  /**
   * A snapshot rebuilds the screen, its scrollback, the cursor and the modes, but not a parser caught mid-sequence,
   * a scroll region, or what the alternate screen's program set up beyond its modes: a mirror rests only at a plain
   * state of the normal screen (a shell at its prompt), with nothing queued, parsing or waiting.
   */
  #canRest(terminal: HeadlessTerminal): boolean {
    return !this.#queue.length && !this.#parsing && !this.#yielded && !this.#loading && !this.#waiters.length && this.#skippedTo === undefined && terminal.buffer.active.type === 'normal' && canFastForward(terminal);
  }

  #rest(terminal: HeadlessTerminal): void {
    this.#resting = { cols: terminal.cols, rows: terminal.rows, data: this.#serializer!.serialize({ scrollback: SCREEN_SCROLLBACK_LINES }) };
    terminal.dispose();
    this.#terminal = this.#serializer = undefined;
  }

  #onQuietCheck(): void {
    this.#quietTimer = undefined;
    const quietFor = performance.now() - this.#lastWriteAt;
    const quietEnough = this.#queuedBytes > MIRROR_QUIET_PARSE_BYTES ? MIRROR_FLOOD_QUIET_MS : MIRROR_QUIET_MS;
    if (quietFor < quietEnough) {
      this.#quietTimer = setTimeout(() => this.#onQuietCheck(), quietEnough - quietFor);
      return;
    }
    this.#parseUntil = this.#writtenPosition;
    this.#parse();
  }

  /** Hands xterm the next piece, unless one is being parsed or nothing needs parsing yet. */
  #parse(sliceStart = performance.now()): void {
    if (this.#parsing || this.#yielded) return;
    if (this.#resting && !this.#queue.length) return;
    const terminal = this.#awake();
    for (;;) {
      const head = this.#queue.at(0);
      // Skipping first: a mirror that fell behind during a flood then has only the kept lines left, and parses them
      // only when asked to (quiet output, a wait) or when it falls behind again without anything to skip.
      if (Buffer.isBuffer(head) && this.#queuedBytes >= FAST_FORWARD_MIN_BYTES && !this.#loading && this.#fastForward()) continue;
      const fedPosition = this.#writtenPosition - this.#queuedBytes;
      if (head === undefined || (fedPosition >= this.#parseUntil && this.#queuedBytes < this.#lagBytes)) {
        this.#resolveWaiters();
        this.#onCaughtUp();
        this.#scheduleRest();
        return;
      }
      if (!Buffer.isBuffer(head)) {
        // A screen being loaded was laid out at the old size: the resize waits until xterm has parsed it.
        if (this.#loading) return;
        this.#queue.shift();
        terminal.resize(head.cols, head.rows);
        continue;
      }
      const afterSkip = this.#skippedTo !== undefined;
      const piece = this.#takePiece();
      const end = this.#writtenPosition - this.#queuedBytes;
      this.#parsing = true;
      // The skipped text ended with a \r\n, which the kept text must follow (see screen-fast-forward.ts); one write,
      // so no snapshot can fall between the two.
      terminal.write(afterSkip ? Buffer.concat([CRLF, piece]) : piece, () => {
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
    const terminal = this.#terminal!;
    if (fedPosition < this.#nextFastForwardFed || this.#writtenPosition < this.#nextFastForwardWritten || !canFastForward(terminal)) return false;
    const { cut, plainBytes } = fastForwardScan(this.#queue.leading(Buffer.isBuffer), fastForwardLines(terminal.rows, SCREEN_SCROLLBACK_LINES));
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
