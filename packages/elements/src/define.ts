import { SandboxTerminal } from './sandbox-terminal.ts';
import { SessionTabs } from './session-tabs.ts';

/** Registers `<sandbox-terminal>` and `<session-tabs>` (once: a second copy of this module does nothing). */
export function defineElements(registry: CustomElementRegistry = customElements): void {
  if (!registry.get('sandbox-terminal')) registry.define('sandbox-terminal', SandboxTerminal);
  if (!registry.get('session-tabs')) registry.define('session-tabs', SessionTabs);
}

defineElements();

declare global {
  interface HTMLElementTagNameMap {
    'sandbox-terminal': SandboxTerminal;
    'session-tabs': SessionTabs;
  }
}
