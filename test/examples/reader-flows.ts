// The reader flows every built example must pass, in real Chromium against a real guest relay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getSandbox, SandboxError } from '@sandbox-terminal/client';
import { BUILD_TIMEOUT_MS, controls, guestCredentials, newReader, outputOf, resetSandbox, runStep, startExample, STEP_TIMEOUT_MS, type ExampleSite } from './harness.ts';

const FLOW_TIMEOUT_MS = 4 * STEP_TIMEOUT_MS;

export interface ExampleLayout {
  /** Where `npm run build` writes the site, relative to the example's folder. */
  outputDir: string;
  /** The tutorial's two pages as served. */
  first: string;
  second: string;
}

export function describeExample(name: string, layout: ExampleLayout): { site: () => ExampleSite } {
  let site: ExampleSite;
  before(async () => {
    site = await startExample(name, layout.outputDir);
    console.log(`# examples/${name}: npm run build took ${(site.buildMs / 1000).toFixed(1)} s`);
  }, { timeout: BUILD_TIMEOUT_MS + 60_000 });
  after(async () => {
    await site?.close();
  });

  describe(`the ${name} example, built and served`, { timeout: FLOW_TIMEOUT_MS }, () => {
    it('a reader runs the tutorial: template files and setup before the first block, one shell for every block, save-as, checks', async () => {
      const { context, page } = await newReader(site);
      try {
        await page.goto(site.siteUrl + layout.first);
        const run = controls(page, 'look').getByRole('button', { name: 'Run', exact: true });
        await run.waitFor();
        assert.match(await runStep(page, 'look'), /Exit 0/);
        assert.equal(await outputOf(page, 'look'), 'README.md\nsetup.txt\nwords.txt\nset up once by the site');
        assert.match(await runStep(page, 'mkdir'), /Exit 0/);
        await controls(page, 'mkdir').locator('[part="check"]', { hasText: 'Check passed' }).waitFor();
        assert.equal(await runStep(page, 'greet-file', 'Save /workspace/app/greet.sh'), '✓ Saved /workspace/app/greet.sh');
        assert.match(await runStep(page, 'greet'), /Exit 0/);
        assert.equal(await outputOf(page, 'greet'), 'hello, reader, from /workspace/app');
        await controls(page, 'greet').locator('[part="check"]', { hasText: 'Check passed' }).waitFor();
        // The docked terminal showed the same shell.
        const screen = page.locator('sandbox-docs-dock sandbox-terminal .xterm-rows');
        await screen.filter({ hasText: 'hello, reader, from /workspace/app' }).waitFor();
      } finally {
        await context.close();
      }
    });

    it('the session survives navigation to another page of the site and a reload; reset gives a fresh sandbox from the template', async () => {
      const { context, page } = await newReader(site);
      try {
        await page.goto(site.siteUrl + layout.first);
        assert.match(await runStep(page, 'mkdir'), /Exit 0/);
        await page.locator(`a[href*="second"]`).first().click();
        await controls(page, 'where').waitFor();
        assert.match(await runStep(page, 'where'), /Exit 0/);
        assert.equal(await outputOf(page, 'where'), '/workspace/app');
        await page.reload();
        assert.match(await runStep(page, 'where'), /Exit 0/);
        assert.equal(await outputOf(page, 'where'), '/workspace/app');
        await resetSandbox(page);
        assert.match(await runStep(page, 'where'), /Exit 0/);
        assert.equal(await outputOf(page, 'where'), '/workspace\nREADME.md\nsetup.txt\nwords.txt');
      } finally {
        await context.close();
      }
    });

    it('two guest readers get different sandboxes that cannot see each other\'s files', async () => {
      const alice = await newReader(site);
      const bob = await newReader(site);
      try {
        for (const reader of [alice, bob]) await reader.page.goto(site.siteUrl + layout.first);
        assert.match(await runStep(alice.page, 'mkdir'), /Exit 0/);
        await runStep(alice.page, 'greet-file', 'Save /workspace/app/greet.sh');
        assert.match(await runStep(bob.page, 'look'), /Exit 0/);
        assert.equal(await outputOf(bob.page, 'look'), 'README.md\nsetup.txt\nwords.txt\nset up once by the site');
        const aliceGuest = await guestCredentials(alice.page);
        const bobGuest = await guestCredentials(bob.page);
        assert.notEqual(aliceGuest.sandbox, bobGuest.sandbox);
        // Bob's own token, pointed at Alice's sandbox by id, gets nothing.
        const refused = await getSandbox(site.relay.url, aliceGuest.sandbox, { token: bobGuest.token }).readFile('/workspace/app/greet.sh').catch((error: unknown) => error);
        assert.ok(refused instanceof SandboxError && refused.code === 'FORBIDDEN', `Bob read Alice's file: ${String(refused)}`);
        assert.equal(await getSandbox(site.relay.url, bobGuest.sandbox, { token: bobGuest.token }).exists('/workspace/app/greet.sh'), false);
        assert.equal(await getSandbox(site.relay.url, aliceGuest.sandbox, { token: aliceGuest.token }).readFile('/workspace/app/greet.sh'), 'echo "hello, $1, from $PWD"\n');
      } finally {
        await alice.context.close();
        await bob.context.close();
      }
    });
  });
  return { site: () => site };
}
