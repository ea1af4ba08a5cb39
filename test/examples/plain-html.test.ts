// examples/plain-html: the single-file build from one <script type="module"> in plain HTML pages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { controls, newReader, runStep, STEP_TIMEOUT_MS } from './harness.ts';
import { describeExample } from './reader-flows.ts';

const example = describeExample('plain-html', { outputDir: 'dist', first: '/index.html', second: '/second.html' });

describe('the single-file build in plain HTML', { timeout: 3 * STEP_TIMEOUT_MS }, () => {
  it('works from one script: the page loads no other module, and the tags and the check events are there', async () => {
    const { context, page } = await newReader(example.site());
    try {
      const scripts: string[] = [];
      page.on('request', (request) => {
        if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
      });
      await page.goto(`${example.site().siteUrl}/index.html`);
      await controls(page, 'mkdir').waitFor();
      assert.deepEqual(scripts, ['/sandbox-terminal.js']);
      const defined = await page.evaluate(() => ['sandbox-terminal', 'session-tabs', 'sandbox-run-controls', 'sandbox-docs-dock'].map((tag) => Boolean(customElements.get(tag))));
      assert.deepEqual(defined, [true, true, true, true]);
      await runStep(page, 'mkdir');
      await page.locator('#progress', { hasText: 'Steps done: 1 of 2' }).waitFor();
      assert.deepEqual(scripts, ['/sandbox-terminal.js']);
    } finally {
      await context.close();
    }
  });
});
