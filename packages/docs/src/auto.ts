// Side-effect entry: enhances the page's marked code blocks from its `data-sandbox-docs` JSON once the document is
// parsed. What the single-file build runs; safe to import on a server (it does nothing there).
import { inBrowser } from './browser.ts';
import { enhanceRunnableBlocks } from './enhance.ts';

if (inBrowser()) {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => enhanceRunnableBlocks(), { once: true });
  else enhanceRunnableBlocks();
}

export { enhanceRunnableBlocks };
