import { SandboxTerminal, SessionTabs } from '@sandbox-terminal/elements/classes';
import { SandboxRunControls } from './block-controls.ts';
import { inBrowser } from './browser.ts';
import { SandboxDocsDock } from './docs-dock.ts';

/**
 * Registers `<sandbox-run-controls>`, `<sandbox-docs-dock>` and the terminal elements they use (each unless already
 * there); nothing outside a browser. Called by `enhanceRunnableBlocks`, not on import: a page that imports this package
 * keeps the order in which it sets up and defines its own elements.
 */
export function defineDocsElements(registry: CustomElementRegistry | undefined = inBrowser() ? customElements : undefined): void {
  if (!registry) return;
  if (!registry.get('sandbox-terminal')) registry.define('sandbox-terminal', SandboxTerminal);
  if (!registry.get('session-tabs')) registry.define('session-tabs', SessionTabs);
  if (!registry.get('sandbox-run-controls')) registry.define('sandbox-run-controls', SandboxRunControls);
  if (!registry.get('sandbox-docs-dock')) registry.define('sandbox-docs-dock', SandboxDocsDock);
}
