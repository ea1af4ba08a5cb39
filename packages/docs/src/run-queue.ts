/** Where one run is: waiting its turn, running, or over (finished, cancelled while waiting). Only ever moves forward. */
export type RunState = 'queued' | 'running' | 'finished' | 'cancelled';

const ORDER: Record<RunState, number> = { queued: 0, running: 1, finished: 2, cancelled: 2 };

/** One click on a block: what runs, and where it is in the queue. */
export class QueuedRun<T = unknown> {
  #state: RunState = 'queued';
  readonly #abort = new AbortController();

  constructor(
    readonly owner: T,
    readonly run: (signal: AbortSignal) => Promise<void>,
  ) {}

  get state(): RunState {
    return this.#state;
  }

  /** Aborted when the reader stops it while it runs. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Refuses to move backwards or sideways (a finished run never becomes running again). */
  moveTo(next: RunState): void {
    if (ORDER[next] <= ORDER[this.#state]) throw new Error(`a run cannot go from ${this.#state} to ${next}`);
    this.#state = next;
  }

  stop(): void {
    this.#abort.abort(new DOMException('stopped by the reader', 'AbortError'));
  }
}

/**
 * The page's runs, one at a time in the order of the clicks: a block clicked while another runs waits here, and the
 * page shows its place in line. `onChange` fires after every change of any run's state or place.
 */
export class RunQueue<T = unknown> {
  readonly #waiting: Array<QueuedRun<T>> = [];
  #current: QueuedRun<T> | undefined;
  readonly #listeners = new Set<() => void>();

  /** Adds a run at the end of the line; it starts when every earlier one is over. */
  add(owner: T, run: (signal: AbortSignal) => Promise<void>): QueuedRun<T> {
    const queued = new QueuedRun(owner, run);
    this.#waiting.push(queued);
    this.#changed();
    if (!this.#current) void this.#next();
    return queued;
  }

  /** 1 for the next to run, 2 after it…; 0 when it is not waiting. */
  placeOf(run: QueuedRun<T>): number {
    return this.#waiting.indexOf(run) + 1;
  }

  get current(): QueuedRun<T> | undefined {
    return this.#current;
  }

  get waiting(): ReadonlyArray<QueuedRun<T>> {
    return this.#waiting;
  }

  /** The run of `owner` that is waiting or running, if any. */
  pendingFor(owner: T): QueuedRun<T> | undefined {
    return this.#current?.owner === owner ? this.#current : this.#waiting.find((run) => run.owner === owner);
  }

  /** Takes a waiting run out of the line. A running one is stopped with `stop()` instead. */
  cancel(run: QueuedRun<T>): void {
    const at = this.#waiting.indexOf(run);
    if (at < 0) return;
    this.#waiting.splice(at, 1);
    run.moveTo('cancelled');
    this.#changed();
  }

  /** Cancels everything waiting and stops what runs (a reset). */
  clear(): void {
    for (const run of this.#waiting.splice(0)) run.moveTo('cancelled');
    this.#current?.stop();
    this.#changed();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #next(): Promise<void> {
    const run = this.#waiting.shift();
    if (!run) return;
    this.#current = run;
    run.moveTo('running');
    this.#changed();
    try {
      await run.run(run.signal);
    } catch (error) {
      // Each run reports its own failure on its block; the line goes on.
      console.error('sandbox-terminal docs: a run failed', error);
    }
    run.moveTo('finished');
    this.#current = undefined;
    this.#changed();
    void this.#next();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
