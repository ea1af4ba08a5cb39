import type { ReactiveController, ReactiveControllerHost } from 'lit';

export type ColorScheme = 'dark' | 'light';

const DARK_QUERY = '(prefers-color-scheme: dark)';
/** The attributes of `<html>` that sites' own dark-mode switches set. */
const SITE_SCHEME_ATTRIBUTES = ['class', 'data-theme', 'data-color-scheme'];

/**
 * What a site's own light/dark switch says on `<html>`: `data-theme` or `data-color-scheme` (Docusaurus, Starlight)
 * set to `dark` or `light`, else a `dark` or `light` class (Tailwind, VitePress). Undefined when it says neither,
 * e.g. `data-theme="auto"`: then the system's preference decides.
 */
export function siteColorScheme(root: Element | null | undefined): ColorScheme | undefined {
  if (!root) return undefined;
  for (const name of ['data-theme', 'data-color-scheme']) {
    const value = root.getAttribute(name);
    if (value === 'dark' || value === 'light') return value;
  }
  if (root.classList.contains('dark')) return 'dark';
  if (root.classList.contains('light')) return 'light';
  return undefined;
}

/**
 * Follows the page's light/dark scheme while the host is connected, for `theme="auto"`: the site's own switch on
 * `<html>` first (see `siteColorScheme`), then the system's preference.
 */
export class ColorSchemeController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  #query: MediaQueryList | undefined;
  #observer: MutationObserver | undefined;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  get preferred(): ColorScheme {
    const site = siteColorScheme(globalThis.document?.documentElement);
    if (site) return site;
    return (this.#query ?? globalThis.matchMedia?.(DARK_QUERY))?.matches === false ? 'light' : 'dark';
  }

  hostConnected(): void {
    this.#query = globalThis.matchMedia?.(DARK_QUERY);
    this.#query?.addEventListener('change', this.#handleChange);
    const root = globalThis.document?.documentElement;
    if (root && typeof MutationObserver !== 'undefined') {
      this.#observer = new MutationObserver(this.#handleChange);
      this.#observer.observe(root, { attributes: true, attributeFilter: SITE_SCHEME_ATTRIBUTES });
    }
  }

  hostDisconnected(): void {
    this.#query?.removeEventListener('change', this.#handleChange);
    this.#query = undefined;
    this.#observer?.disconnect();
    this.#observer = undefined;
  }

  readonly #handleChange = (): void => this.#host.requestUpdate();
}
