// `npm run screenshot:docs`: builds the VitePress example against a guest relay, runs its tutorial in Chromium as a
// reader would, and writes docs/images/docs-example.png (light) and docs/images/docs-example-dark.png for the docs.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { newReader, outputOf, ROOT, runStep, startExample } from '../test/examples/harness.ts';

const OUTPUT_DIR = join(ROOT, 'docs', 'images');
await mkdir(OUTPUT_DIR, { recursive: true });
const site = await startExample('vitepress', 'docs/.vitepress/dist');
try {
  for (const scheme of ['light', 'dark'] as const) {
    const { context, page } = await newReader(site);
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${site.siteUrl}/`);
    await page.evaluate((dark) => localStorage.setItem('vitepress-theme-appearance', dark ? 'dark' : 'light'), scheme === 'dark');
    await page.reload();
    await runStep(page, 'look');
    await runStep(page, 'mkdir');
    await runStep(page, 'greet-file', 'Save /workspace/app/greet.sh');
    await runStep(page, 'greet');
    if ((await outputOf(page, 'greet')) !== 'hello, reader, from /workspace/app') throw new Error('the tutorial did not run as it should');
    await page.locator('sandbox-docs-dock sandbox-terminal .xterm-rows', { hasText: 'hello, reader' }).waitFor();
    await page.locator('[data-sandbox-step="greet"]').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, 120));
    const file = join(OUTPUT_DIR, scheme === 'light' ? 'docs-example.png' : 'docs-example-dark.png');
    await page.screenshot({ path: file });
    console.log(`wrote ${file}`);
    await context.close();
  }
} finally {
  await site.close();
}
