import { defineElements, inBrowser } from '@sandbox-terminal/elements/define';
import { SandboxRunControls } from './block-controls.ts';
import { SandboxDocsDock } from './docs-dock.ts';

/** Registers `<sandbox-run-controls>`, `<sandbox-docs-dock>` and the terminal elements they use; nothing outside a browser. */
export function defineDocsElements(registry: CustomElementRegistry | undefined = inBrowser() ? customElements : undefined): void {
  if (!registry) return;
  defineElements(registry);
  if (!registry.get('sandbox-run-controls')) registry.define('sandbox-run-controls', SandboxRunControls);
  if (!registry.get('sandbox-docs-dock')) registry.define('sandbox-docs-dock', SandboxDocsDock);
}
