import serializePackage from '@xterm/addon-serialize';
import headlessPackage from '@xterm/headless';

const { Terminal } = headlessPackage;
const { SerializeAddon } = serializePackage;

/** Scrollback lines a mirror keeps and a restored screen carries. */
export const SCREEN_SCROLLBACK_LINES = 1000;

export interface ScreenSnapshot {
  /** Escape sequences that rebuild the screen (alternate screen and modes included) in an empty terminal. */
  data: string;
  /** Output position the snapshot corresponds to: live output continues from here. */
  position: number;
}

/**
 * A headless xterm fed with everything a session shows, so a new viewer, a viewer that fell behind the output
 * log, or a session recreated after sleep starts from the exact current screen instead of a garbled replay.
 */
export class ScreenMirror {
  readonly #terminal;
  readonly #serializer;
  /** Position up to which the headless terminal has parsed the output (advanced by write callbacks). */
  #parsedPosition: number;
  #writtenPosition: number;
  /** A screen loaded from storage, stood for until the terminal has parsed it. */
  #loading: ScreenSnapshot | undefined;

  constructor(cols: number, rows: number, position = 0) {
    this.#terminal = new Terminal({ cols, rows, scrollback: SCREEN_SCROLLBACK_LINES, allowProposedApi: true });
    this.#serializer = new SerializeAddon();
    this.#terminal.loadAddon(this.#serializer);
    this.#parsedPosition = position;
    this.#writtenPosition = position;
  }

  write(chunk: Buffer): void {
    this.#writtenPosition += chunk.length;
    const end = this.#writtenPosition;
    this.#terminal.write(chunk, () => (this.#parsedPosition = end));
  }

  /** Bytes written but not parsed yet: the mirror counts for flow control like a viewer, so its queue stays bounded. */
  get backlog(): number {
    return this.#writtenPosition - this.#parsedPosition;
  }

  /** Loads a saved screen (after a relay restart) as the state at `position`. */
  load(snapshot: ScreenSnapshot): void {
    this.#terminal.reset();
    this.#writtenPosition = snapshot.position;
    this.#parsedPosition = snapshot.position;
    this.#loading = snapshot;
    this.#terminal.write(snapshot.data, () => {
      if (this.#loading === snapshot) this.#loading = undefined;
    });
  }

  resize(cols: number, rows: number): void {
    this.#terminal.resize(cols, rows);
  }

  /**
   * The screen as parsed so far. xterm parses whole write chunks between macrotasks, so the buffer is exactly the
   * state after the chunk ending at the parsed position; the output log supplies everything after it.
   */
  snapshot(): ScreenSnapshot {
    // Until a loaded screen is parsed, it is the truth (output after it is in the log from its position on).
    if (this.#loading) return this.#loading;
    return { data: this.#serializer.serialize({ scrollback: SCREEN_SCROLLBACK_LINES }), position: this.#parsedPosition };
  }

  /** Resolves once everything written so far is parsed (tests, and saving before sleep). */
  settled(): Promise<ScreenSnapshot> {
    return new Promise((resolve) => this.#terminal.write('', () => resolve(this.snapshot())));
  }

  dispose(): void {
    this.#terminal.dispose();
  }
}
