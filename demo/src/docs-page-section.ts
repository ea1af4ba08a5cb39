import { enhanceRunnableBlocks } from '@sandbox-terminal/docs';

/** The blocks and the setup of the demo's tutorial; the same Markdown words a docs site writes (docs/docs-sites.md). */
const TUTORIAL = `
<p class="docs-progress" aria-live="polite">Steps done: <output>0</output> of 2</p>
<pre data-sandbox-setup data-sandbox-save-as="/workspace/tutorial/greet.sh"><code>echo "hello, \${1:-reader}, from $PWD"
</code></pre>
<pre data-sandbox-run data-sandbox-step="enter" data-sandbox-check="test -d /workspace/tutorial"><code>cd /workspace/tutorial
ls</code></pre>
<pre data-sandbox-run data-sandbox-output data-sandbox-step="greet"><code>bash greet.sh "$USER"
export GREETED=yes</code></pre>
<pre data-sandbox-save-as="/workspace/tutorial/notes.txt" data-sandbox-step="notes"><code>Notes written by the Save button.
</code></pre>
<pre data-sandbox-run data-sandbox-output data-sandbox-step="check" data-sandbox-check="test -f /workspace/tutorial/notes.txt"><code>echo "cwd=$PWD greeted=$GREETED"
cat notes.txt</code></pre>
`;

/**
 * The "docs page" section: a short tutorial whose code blocks run in one shared session of the sandbox `demo-docs`,
 * with the page's docked terminal, a setup file, step checks and the reset, as @sandbox-terminal/docs gives any docs
 * site. The demo's relay has no guest mode, so every visitor of this playground shares that sandbox.
 */
export function renderDocsPageSection(container: HTMLElement, { relayUrl }: { relayUrl: string }): void {
  container.innerHTML = TUTORIAL;
  const done = new Set<string>();
  document.addEventListener('sandbox-check', (event) => {
    if (event.detail.passed) done.add(event.detail.step);
    else done.delete(event.detail.step);
    container.querySelector('.docs-progress output')!.textContent = String(done.size);
  });
  enhanceRunnableBlocks({ relay: relayUrl, access: 'sandbox', sandbox: 'demo-docs', siteKey: 'sandbox-terminal-demo' });
}
