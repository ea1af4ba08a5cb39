import type { ReactiveController, ReactiveControllerHost } from 'lit';

export type ColorScheme = 'dark' | 'light';

const DARK_QUERY = '(prefers-color-scheme: dark)';

/** Follows the system's light/dark preference while the host is connected, for `theme="auto"`. */
export class ColorSchemeController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  #query: MediaQueryList | undefined;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  get preferred(): ColorScheme {
    return (this.#query ?? globalThis.matchMedia?.(DARK_QUERY))?.matches === false ? 'light' : 'dark';
  }

  hostConnected(): void {
    this.#query = globalThis.matchMedia?.(DARK_QUERY);
    this.#query?.addEventListener('change', this.#handleChange);
  }

  hostDisconnected(): void {
    this.#query?.removeEventListener('change', this.#handleChange);
    this.#query = undefined;
  }

  readonly #handleChange = (): void => this.#host.requestUpdate();
}
