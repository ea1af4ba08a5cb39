import { SandboxTerminal } from './sandbox-terminal.ts';
import { SessionTabs } from './session-tabs.ts';

/**
 * Registers `<sandbox-terminal>` and `<session-tabs>` (once: a second copy of this module does nothing). Outside a
 * browser (a generator's server-side render) there is nothing to register in and it does nothing: Lit's Node build
 * puts a stand-in `customElements` on the global, and elements defined there would be constructed by SSR renderers
 * without the DOM they need.
 */
export function defineElements(registry: CustomElementRegistry | undefined = inBrowser() ? customElements : undefined): void {
  if (!registry) return;
  if (!registry.get('sandbox-terminal')) registry.define('sandbox-terminal', SandboxTerminal);
  if (!registry.get('session-tabs')) registry.define('session-tabs', SessionTabs);
}

/** True in a page (a window with a document), false in Node, Deno or a worker. */
export function inBrowser(): boolean {
  return typeof window !== 'undefined' && typeof document !== 'undefined' && typeof customElements !== 'undefined';
}

defineElements();

declare global {
  interface HTMLElementTagNameMap {
    'sandbox-terminal': SandboxTerminal;
    'session-tabs': SessionTabs;
  }
}
