import { fileURLToPath } from 'node:url';
import { CONFIG_ATTRIBUTE, type DocsConfig } from '../config.ts';

export { remarkRunnableBlocks } from '../remark.ts';

/**
 * Docusaurus plugin: `plugins: [['@sandbox-terminal/docs/docusaurus', { relay, template, setup }]]`, with
 * `remarkPlugins: [remarkRunnableBlocks]` in the docs (and blog/pages) options so fences can be marked. It writes the
 * options into every page (`<script type="application/json" data-sandbox-docs>`) and adds a client module that
 * enhances the blocks after each route renders.
 */
export default function sandboxTerminalPlugin(_context: unknown, options: Partial<DocsConfig>) {
  return {
    name: '@sandbox-terminal/docs',
    getClientModules(): string[] {
      return [fileURLToPath(new URL('./client.js', import.meta.url))];
    },
    injectHtmlTags() {
      return {
        headTags: [{ tagName: 'script', attributes: { type: 'application/json', [CONFIG_ATTRIBUTE]: '' }, innerHTML: JSON.stringify(options).replaceAll('<', '\\u003c') }],
      };
    },
  };
}
