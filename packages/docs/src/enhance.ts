import { inBrowser } from './browser.ts';
import { readPageConfig, type RunnableBlocksOptions } from './config.ts';
import { defineDocsElements } from './define.ts';
import { RunnableBlocksPage } from './docs-page.ts';

let page: RunnableBlocksPage | undefined;

/**
 * Turns the page's marked code blocks into runnable ones (once per page: later calls refresh the same page, so call
 * it again after a client-side navigation). Options given here win over the page's `data-sandbox-docs` JSON.
 * Returns undefined outside a browser, so it is safe to call from code a generator also renders on the server.
 */
export function enhanceRunnableBlocks(options: Partial<RunnableBlocksOptions> = {}): RunnableBlocksPage | undefined {
  if (!inBrowser()) return undefined;
  if (page) {
    page.refresh();
    return page;
  }
  const merged = { ...readPageConfig(), ...options };
  if (!merged.relay) {
    console.error('sandbox-terminal docs: no relay URL (give `relay`, or a data-sandbox-docs JSON script): the code blocks stay as they are');
    return undefined;
  }
  defineDocsElements();
  page = new RunnableBlocksPage(merged as RunnableBlocksOptions);
  return page;
}

/** The page's runnable blocks, if `enhanceRunnableBlocks` has run. */
export function runnableBlocksPage(): RunnableBlocksPage | undefined {
  return page;
}
