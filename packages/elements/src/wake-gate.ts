import type { IDisposable } from '@xterm/xterm';

/**
 * Holds reconnection back while the page is hidden and the sandbox is asleep: attaching to a sleeping session wakes
 * its sandbox, so a background tab that kept reconnecting would keep a sandbox awake that nobody is looking at.
 * The gate opens when the page becomes visible again or when the user types.
 */
export class WakeGate implements IDisposable {
  readonly #document: Document;
  #waiters: Array<() => void> = [];

  constructor(document: Document) {
    this.#document = document;
    this.#document.addEventListener('visibilitychange', this.#handleVisibility);
  }

  /** True when a connection attempt should wait: the sandbox is asleep and nobody can see the page. */
  shouldHold(sandboxAsleep: boolean): boolean {
    return sandboxAsleep && this.#document.visibilityState === 'hidden';
  }

  get holding(): boolean {
    return this.#waiters.length > 0;
  }

  /** Resolves when the page is visible again or `open()` is called. */
  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Lets every waiting attempt go now (the user typed, or the connection is being torn down). */
  open(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }

  dispose(): void {
    this.#document.removeEventListener('visibilitychange', this.#handleVisibility);
    this.open();
  }

  readonly #handleVisibility = (): void => {
    if (this.#document.visibilityState === 'visible') this.open();
  };
}
