import type { IDisposable, IEvent } from '@xterm/xterm';

/**
 * A typed event source in xterm's own style (`terminal.onData(listener)` returns an `IDisposable`), so the addon's
 * events read like the terminal's and are collected the same way.
 */
export class Emitter<T> implements IDisposable {
  readonly #listeners = new Set<(value: T) => void>();

  readonly event: IEvent<T> = (listener) => {
    this.#listeners.add(listener);
    return { dispose: () => this.#listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.#listeners]) listener(value);
  }

  dispose(): void {
    this.#listeners.clear();
  }
}

/** Disposes everything pushed into it, newest first, once. */
export class DisposableStore implements IDisposable {
  #items: IDisposable[] = [];

  add<D extends IDisposable>(item: D): D {
    this.#items.push(item);
    return item;
  }

  /** Registers a DOM listener and its removal. */
  listen<K extends string>(target: EventTarget, type: K, listener: EventListener, options?: AddEventListenerOptions): void {
    target.addEventListener(type, listener, options);
    this.add({ dispose: () => target.removeEventListener(type, listener, options) });
  }

  dispose(): void {
    const items = this.#items.reverse();
    this.#items = [];
    for (const item of items) item.dispose();
  }
}
