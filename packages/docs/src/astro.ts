import { CONFIG_ATTRIBUTE, type DocsConfig } from './config.ts';
import { remarkRunnableBlocks } from './remark.ts';

export { remarkRunnableBlocks };

// The Astro integration shapes used here, so the package does not depend on Astro.
interface AstroConfigSetup {
  updateConfig(config: { markdown?: { remarkPlugins?: unknown[] } }): unknown;
  injectScript(stage: 'page', content: string): void;
}

/**
 * Astro integration: `integrations: [sandboxTerminal({ relay, template })]`. Adds the remark plugin (fences with
 * `run`, `save-as=…`… become runnable) and a page script that enhances the blocks with these options.
 */
export function sandboxTerminal(options: Partial<DocsConfig>) {
  return {
    name: '@sandbox-terminal/docs',
    hooks: {
      'astro:config:setup'({ updateConfig, injectScript }: AstroConfigSetup) {
        updateConfig({ markdown: { remarkPlugins: [remarkRunnableBlocks] } });
        injectScript('page', `import { enhanceRunnableBlocks } from '@sandbox-terminal/docs';\nenhanceRunnableBlocks(${JSON.stringify(options)});`);
      },
    },
  };
}

export { CONFIG_ATTRIBUTE };
export default sandboxTerminal;
