// custom-elements.json is generated from the elements' doc comments (`npm run manifest`), never written by hand; IDEs,
// Storybook and the published package read it, so a stale copy misinforms all of them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ELEMENTS = join(ROOT, 'packages', 'elements');
/** The analyzer parses every source file of the package; a few seconds, more on a loaded machine. */
const ANALYZE_TIMEOUT_MS = 120_000;

interface ManifestDeclaration {
  tagName?: string;
  customElement?: boolean;
  attributes?: { name: string }[];
  events?: { name: string }[];
  cssParts?: { name: string }[];
  cssProperties?: { name: string }[];
  slots?: { name: string }[];
}
interface Manifest {
  modules: { path: string; declarations?: ManifestDeclaration[] }[];
}

const committedText = await readFile(join(ELEMENTS, 'custom-elements.json'), 'utf8');
const committed = JSON.parse(committedText) as Manifest;

function element(tagName: string): ManifestDeclaration {
  const found = committed.modules.flatMap((module) => module.declarations ?? []).find((declaration) => declaration.tagName === tagName);
  assert.ok(found, `custom-elements.json has no <${tagName}>`);
  return found;
}

const names = (items: { name: string }[] | undefined) => (items ?? []).map((item) => item.name);

describe('custom-elements.json', () => {
  it('is what `npm run manifest` makes of the current sources', { timeout: ANALYZE_TIMEOUT_MS }, async () => {
    // In a copy of the package: the analyzer writes custom-elements.json into its working directory and points the
    // package.json there at it, so a run in place (or with --outdir) would change the files under test.
    const copy = await mkdtemp(join(tmpdir(), 'sandbox-terminal-manifest-'));
    try {
      await cp(join(ELEMENTS, 'package.json'), join(copy, 'package.json'));
      await cp(join(ELEMENTS, 'src'), join(copy, 'src'), { recursive: true });
      // The package's own script, so the flags are the ones the committed file was made with; cem from the repository.
      const PATH = [join(ROOT, 'node_modules', '.bin'), process.env.PATH].join(delimiter);
      await run('npm', ['run', '--silent', 'manifest'], { cwd: copy, env: { ...process.env, PATH } });
      const fresh = await readFile(join(copy, 'custom-elements.json'), 'utf8');
      assert.ok(fresh === committedText, 'packages/elements/custom-elements.json is out of date: run `npm run manifest` and commit it');
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('describes <sandbox-terminal>: attributes, events, slot, parts and CSS properties', () => {
    const terminal = element('sandbox-terminal');
    assert.equal(terminal.customElement, true);
    for (const attribute of ['relay', 'sandbox', 'session', 'persist-key', 'token', 'readonly', 'theme', 'font-size']) {
      assert.ok(names(terminal.attributes).includes(attribute), `attribute ${attribute} missing`);
    }
    for (const event of ['status-change', 'session-created', 'session-recreated', 'exit', 'title-change', 'cwd-change']) {
      assert.ok(names(terminal.events).includes(event), `event ${event} missing`);
    }
    assert.ok(names(terminal.slots).includes('status-end'));
    assert.ok(names(terminal.cssParts).includes('terminal'));
    assert.ok(names(terminal.cssProperties).includes('--sandbox-terminal-background'));
  });

  it('describes <session-tabs> and its own events', () => {
    const tabs = element('session-tabs');
    assert.equal(tabs.customElement, true);
    for (const attribute of ['relay', 'sandbox', 'persist-key']) assert.ok(names(tabs.attributes).includes(attribute), `attribute ${attribute} missing`);
    for (const event of ['tab-change', 'session-closed']) assert.ok(names(tabs.events).includes(event), `event ${event} missing`);
    assert.ok((tabs.cssParts ?? []).length > 0, 'no CSS parts');
  });
});
