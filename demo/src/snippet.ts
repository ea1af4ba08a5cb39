import { html, render } from 'lit';

/** A code block with a Copy button. */
export function renderSnippet(container: HTMLElement, code: string): void {
  let copied = '';
  const draw = () =>
    render(
      html`<div class="snippet-box">
        <pre><code>${code}</code></pre>
        <button type="button" class="copy" @click=${copy}>${copied || 'Copy'}</button>
      </div>`,
      container,
    );
  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(code);
      copied = 'Copied';
    } catch {
      copied = 'Select and copy by hand';
    }
    draw();
  }
  draw();
}
