/**
 * A settled job's output that its `B` marker has not yet preceded on the terminal waits this long for it at most.
 * The FIFOs and the PTY are read in whatever order the poll returns them, so the end markers can be read before the
 * command line that the shell printed first.
 */
export const UNSHOWN_OUTPUT_WAIT_MS = 1_000;

interface JobOnTerminal {
  id: string;
  /** Its `B` marker reached the terminal: its output may be shown now. */
  begun: boolean;
  /** Its `E` marker reached the terminal: terminal output after it waits until the job's output is complete. */
  ended: boolean;
}

/**
 * Puts a session's two output streams back into the order a terminal would have shown them, into one sink.
 *
 * A session exec's output does not go through the PTY but through FIFOs, which the relay reads on their own
 * schedule, while the shell prints the command line (then `B`) before the command runs and `E` after it on the PTY.
 * So exec output is held until its job's `B` has been shown, and PTY output after `E` (the next prompt) is held until
 * the job's output is complete. A job that settles before its `B` arrived keeps its output back a little longer.
 */
export class TerminalOrder {
  readonly #sink: (data: Buffer) => void;
  #job: JobOnTerminal | undefined;
  /** PTY output after the current job's `E`, shown once the job settles. */
  #heldTerminal: Buffer[] = [];
  /** Exec output that came before the current job's `B`. */
  #heldExec: Buffer[] = [];
  /** A settled job's output still waiting for its `B`. */
  #unshown: { jobId: string; chunks: Buffer[]; timer: NodeJS.Timeout } | undefined;

  constructor(sink: (data: Buffer) => void) {
    this.#sink = sink;
  }

  /**
   * Bytes the PTY showed (markers removed), valid during the call only (every PTY read shares one buffer): passed on
   * as they are, and copied only when held.
   */
  terminal(data: Buffer): void {
    if (!data.length) return;
    if (this.#job?.ended) this.#heldTerminal.push(Buffer.from(data));
    else this.#sink(data);
  }

  /** A job was sent to the shell. */
  jobStarted(jobId: string): void {
    this.#job = { id: jobId, begun: false, ended: false };
  }

  /** Output of the current job from its FIFOs, with the newline translation the terminal driver would have done. */
  execOutput(chunk: Buffer): void {
    const display = Buffer.from(chunk.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    if (this.#job && !this.#job.begun) this.#heldExec.push(display);
    // Not held with the terminal output after `E`: that must come after this.
    else this.#sink(display);
  }

  /** The job's `B` marker came through the PTY: the command line is shown, its output may follow. */
  begun(jobId: string): void {
    if (this.#unshown?.jobId === jobId) this.#showUnshown();
    if (this.#job?.id !== jobId) return;
    this.#job.begun = true;
    this.#showUnshown();
    for (const chunk of this.#heldExec.splice(0)) this.#sink(chunk);
  }

  /** The job's `E` marker came through the PTY: what follows is the next prompt. */
  endedOnTerminal(jobId: string): void {
    if (this.#job?.id === jobId) this.#job.ended = true;
  }

  /**
   * The current job is complete (both end markers, a timeout, or its shell ended). `shellAlive`: its `B` may still
   * come, so output it held waits for it a little.
   */
  settled(shellAlive: boolean): void {
    const job = this.#job;
    if (!job) return;
    this.#job = undefined;
    this.#showUnshown();
    const held = this.#heldExec.splice(0);
    if (!job.begun && shellAlive && held.length) {
      this.#unshown = { jobId: job.id, chunks: held, timer: setTimeout(() => this.#showUnshown(), UNSHOWN_OUTPUT_WAIT_MS) };
    } else {
      for (const chunk of held) this.#sink(chunk);
    }
    for (const chunk of this.#heldTerminal.splice(0)) this.#sink(chunk);
  }

  /** The shell ended: nothing it still owes will come, so show everything held now. */
  flush(): void {
    this.settled(false);
    this.#showUnshown();
  }

  /** Bytes held back right now (for tests and for bounding what a stalled job keeps). */
  get heldBytes(): number {
    let bytes = 0;
    for (const chunk of [...this.#heldTerminal, ...this.#heldExec, ...(this.#unshown?.chunks ?? [])]) bytes += chunk.length;
    return bytes;
  }

  #showUnshown(): void {
    const unshown = this.#unshown;
    if (!unshown) return;
    this.#unshown = undefined;
    clearTimeout(unshown.timer);
    for (const chunk of unshown.chunks) this.#sink(chunk);
  }
}
