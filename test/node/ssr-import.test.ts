// Server-side rendering: a generator imports the packages in Node while it renders pages. Every entry point of every
// published package, compiled (dist/, as a site gets them), is imported by plain node without a DOM: none may throw, and
// no element may be registered (Lit's Node build puts a stand-in customElements on the global).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** tsc -b of the five packages and the single-file build; incremental, but cold on a fresh clone. */
const BUILD_TIMEOUT_MS = 5 * 60_000;
const PACKAGES = ['packages/protocol', 'packages/client', 'packages/elements', 'packages/docs'];
const TAGS = ['sandbox-terminal', 'session-tabs', 'sandbox-run-controls', 'sandbox-docs-dock'];

let specifiers: string[];

before(async () => {
  await run('npm', ['run', 'build', '--silent'], { cwd: ROOT, timeout: BUILD_TIMEOUT_MS });
  specifiers = [];
  for (const dir of PACKAGES) {
    const manifest = JSON.parse(await readFile(join(ROOT, dir, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
    for (const entry of Object.keys(manifest.exports)) {
      if (entry.endsWith('.json')) continue;
      specifiers.push(entry === '.' ? manifest.name : `${manifest.name}/${entry.slice(2)}`);
    }
  }
}, { timeout: BUILD_TIMEOUT_MS });

describe('importing the packages in Node (SSR)', () => {
  it('never throws, for any entry point, and registers no element', { timeout: 60_000 }, async () => {
    const script = `
const results = {};
for (const specifier of ${JSON.stringify(specifiers)}) {
  try { const module = await import(specifier); results[specifier] = Object.keys(module).length; }
  catch (error) { results[specifier] = 'threw: ' + error.message; }
}
const { enhanceRunnableBlocks } = await import('@sandbox-terminal/docs');
const { onRouteDidUpdate } = await import('@sandbox-terminal/docs/docusaurus/client');
onRouteDidUpdate();
console.log(JSON.stringify({
  results,
  registered: ${JSON.stringify(TAGS)}.filter((tag) => globalThis.customElements?.get?.(tag)),
  enhanced: enhanceRunnableBlocks({ relay: 'http://127.0.0.1:8787' }) ?? null,
  resolved: import.meta.resolve('@sandbox-terminal/docs/sandbox-terminal.js'),
}));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 });
    const { results, registered, enhanced, resolved } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { results: Record<string, number | string>; registered: string[]; enhanced: null; resolved: string };
    assert.ok(specifiers.length >= 14, `only ${specifiers.length} entry points found`);
    for (const [specifier, result] of Object.entries(results)) assert.equal(typeof result, 'number', `${specifier} ${String(result)}`);
    assert.ok(specifiers.includes('@sandbox-terminal/elements') && specifiers.includes('@sandbox-terminal/docs/vitepress'));
    assert.deepEqual(registered, []);
    assert.equal(enhanced, null);
    // Node gets the packages' own modules for the single-file build's specifier: that file is browser code.
    assert.match(resolved, /packages\/docs\/dist\/standalone-node\.js$/);
  });
});
