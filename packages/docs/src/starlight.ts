import type { DocsConfig } from './config.ts';
import { sandboxTerminal } from './astro.ts';

// The Starlight plugin shape used here, so the package does not depend on Starlight.
interface StarlightSetup {
  addIntegration(integration: ReturnType<typeof sandboxTerminal>): void;
}

/**
 * Starlight plugin: `starlight({ plugins: [starlightSandboxTerminal({ relay, template })] })`. Fences with `run`,
 * `save-as=…`, `setup`, `check=…` get Run buttons; Expressive Code still renders them.
 */
export function starlightSandboxTerminal(options: Partial<DocsConfig>) {
  return {
    name: '@sandbox-terminal/docs',
    hooks: {
      'config:setup'({ addIntegration }: StarlightSetup) {
        addIntegration(sandboxTerminal(options));
      },
    },
  };
}

export default starlightSandboxTerminal;
