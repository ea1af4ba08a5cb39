import type { IDisposable } from '@xterm/xterm';

/**
 * Holds reconnection back while the page is hidden and the sandbox is asleep: attaching to a sleeping session wakes
 * its sandbox, so a background tab that kept reconnecting would keep a sandbox awake that nobody is looking at.
 * The gate opens when the page becomes visible again or when the user types.
 */
export class WakeGate implements IDisposable {
  readonly #document: Document;
  #waiters: Array<() => void> = [];
  /** Set by `open()` (the user typed): nothing is held back until the next connection is up. */
  #openedByUser = false;

  constructor(document: Document) {
    this.#document = document;
    this.#document.addEventListener('visibilitychange', this.#handleVisibility);
  }

  /** True when a connection attempt should wait: the sandbox is asleep and nobody can see the page. */
  shouldHold(sandboxAsleep: boolean): boolean {
    return sandboxAsleep && !this.#openedByUser && this.#document.visibilityState === 'hidden';
  }

  /** Resolves when the page is visible again or `open()` is called. */
  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Lets every waiting attempt go now, and the ones still in their backoff delay when they come (the user typed, or
   * the connection is being torn down).
   */
  open(): void {
    this.#openedByUser = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** A connection is up: from the next drop on, hold back again while hidden and asleep. */
  connected(): void {
    this.#openedByUser = false;
  }

  dispose(): void {
    this.#document.removeEventListener('visibilitychange', this.#handleVisibility);
    this.open();
  }

  readonly #handleVisibility = (): void => {
    if (this.#document.visibilityState !== 'visible') return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  };
}
