import { html, LitElement, nothing } from 'lit';
import type { BlockKind } from './block-spec.ts';
import { blockControlsStyles } from './block-controls.styles.ts';

/** What the controls under one block show; the page sets it, the element only draws it. */
export type BlockView =
  | { state: 'idle' }
  | { state: 'queued'; place: number }
  | { state: 'setup'; message: string }
  | { state: 'running' }
  | { state: 'finished'; exitCode: number; durationMs: number; timedOut: boolean; stopped: boolean; output?: string }
  | { state: 'saved'; path: string }
  | { state: 'error'; message: string };

export type CheckView = 'none' | 'checking' | 'passed' | 'not-yet' | 'error';

/** What the reader asked for, sent to the page (not composed: the page listens on the controls). */
export type BlockAction = 'run' | 'copy' | 'cancel' | 'stop';

/**
 * The Run button, "Copy to terminal", the compact result and the step check under one runnable code block. The page
 * inserts it after the block and listens for `block-action`; the block's code stays where the author put it.
 *
 * @tag sandbox-run-controls
 * @summary Run / Copy to terminal and the result under a runnable code block.
 *
 * @fires block-action - The reader pressed a button; `detail.action` is `run`, `copy`, `cancel` or `stop`.
 *
 * @csspart run-button - Run (Save for a file block).
 * @csspart copy-button - Copy to terminal.
 * @csspart status - The result line (queued, running, exit status).
 * @csspart check - The step check's badge.
 * @csspart output - The block's output, when the author asked for it inline.
 *
 * @cssprop --sandbox-run-accent - The Run button's colour.
 * @cssprop --sandbox-run-accent-text - Its text colour.
 * @cssprop --sandbox-run-ok - Colour of success (exit 0, a passed check).
 * @cssprop --sandbox-run-error - Colour of failures.
 * @cssprop --sandbox-run-font-size - Size of the controls' text (default 0.85em).
 */
export class SandboxRunControls extends LitElement {
  static override styles = blockControlsStyles;

  static override properties = {
    kind: { type: String },
    saveAs: { type: String, attribute: 'save-as' },
    view: { attribute: false },
    check: { attribute: false },
  };

  /** What the block is (a command, a file, a setup step). */
  declare kind: BlockKind;
  /** The path a file block writes. */
  declare saveAs: string | undefined;
  declare view: BlockView;
  declare check: CheckView;

  constructor() {
    super();
    this.kind = 'command';
    this.view = { state: 'idle' };
    this.check = 'none';
  }

  protected override render() {
    const view = this.view;
    const file = this.kind === 'file' || this.kind === 'setup-file';
    if (this.kind === 'setup-command' || this.kind === 'setup-file') {
      return html`<div class="bar"><span part="status" class="status">Setup: runs once in your sandbox before the first block</span></div>`;
    }
    const busy = view.state === 'queued' || view.state === 'running' || view.state === 'setup';
    return html`
      <div class="bar">
        <button part="run-button" class="primary" ?disabled=${busy} aria-label=${file ? `Save ${this.saveAs ?? ''}`.trim() : 'Run'} @click=${() => this.#act('run')}>
          ${file ? 'Save' : 'Run'}
        </button>
        ${file ? nothing : html`<button part="copy-button" @click=${() => this.#act('copy')}>Copy to terminal</button>`}
        ${view.state === 'queued' ? html`<button part="cancel-button" @click=${() => this.#act('cancel')}>Cancel</button>` : nothing}
        ${view.state === 'running' && !file ? html`<button part="stop-button" @click=${() => this.#act('stop')}>Stop</button>` : nothing}
        <span part="status" class="status" role="status" aria-live="polite" data-tone=${tone(view)}>${statusText(view)}</span>
        ${this.check === 'none' ? nothing : html`<span part="check" class="check" data-state=${this.check}>${checkText(this.check)}</span>`}
      </div>
      ${view.state === 'finished' && view.output !== undefined ? html`<pre part="output" aria-label="Output">${view.output}</pre>` : nothing}
    `;
  }

  #act(action: BlockAction): void {
    this.dispatchEvent(new CustomEvent('block-action', { detail: { action } }));
  }
}

function tone(view: BlockView): string {
  if (view.state === 'saved') return 'ok';
  if (view.state === 'error') return 'bad';
  if (view.state !== 'finished') return '';
  return view.exitCode === 0 && !view.timedOut && !view.stopped ? 'ok' : 'bad';
}

function statusText(view: BlockView): string {
  switch (view.state) {
    case 'idle':
      return '';
    case 'queued':
      return view.place === 1 ? 'Queued: next' : `Queued: ${ordinal(view.place)} in line`;
    case 'setup':
      return `Waiting for setup: ${view.message}`;
    case 'running':
      return 'Running…';
    case 'finished': {
      const time = view.durationMs < 1000 ? `${Math.max(1, Math.round(view.durationMs))} ms` : `${(view.durationMs / 1000).toFixed(1)} s`;
      if (view.stopped) return `Stopped · ${time}`;
      if (view.timedOut) return `Timed out · ${time}`;
      return view.exitCode === 0 ? `✓ Exit 0 · ${time}` : `✗ Exit ${view.exitCode} · ${time}`;
    }
    case 'saved':
      return `✓ Saved ${view.path}`;
    case 'error':
      return `Error: ${view.message}`;
  }
}

function checkText(check: CheckView): string {
  switch (check) {
    case 'passed':
      return '✓ Check passed';
    case 'not-yet':
      return 'Check: not yet';
    case 'checking':
      return 'Checking…';
    case 'error':
      return 'Check could not run';
    default:
      return '';
  }
}

function ordinal(place: number): string {
  const suffix = place % 10 === 1 && place % 100 !== 11 ? 'st' : place % 10 === 2 && place % 100 !== 12 ? 'nd' : place % 10 === 3 && place % 100 !== 13 ? 'rd' : 'th';
  return `${place}${suffix}`;
}

declare global {
  interface HTMLElementTagNameMap {
    'sandbox-run-controls': SandboxRunControls;
  }
}
