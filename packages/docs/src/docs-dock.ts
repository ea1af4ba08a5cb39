import { html, LitElement, nothing, type PropertyValues } from 'lit';
import type { SandboxTerminal, TerminalTheme } from '@sandbox-terminal/elements/classes';
import type { SessionTarget } from './docs-session.ts';
import { docsDockStyles } from './docs-dock.styles.ts';

/** The dock is never made smaller than this, nor taller than 90% of the window. */
export const MIN_DOCK_HEIGHT_PX = 120;
export const DEFAULT_DOCK_HEIGHT_PX = 320;
/** One arrow key press on the resize handle. */
const KEYBOARD_RESIZE_STEP_PX = 24;

/**
 * The page's one terminal, docked at the bottom of the window: opened by the first Run, resizable by its top edge
 * (pointer or arrow keys), closable (the session stays; the next Run reopens it). It shows the page's session, the
 * queue and setup progress, and offers the reset.
 *
 * @tag sandbox-docs-dock
 * @summary The docked terminal of a page with runnable code blocks.
 *
 * @fires dock-close - The reader closed the dock.
 * @fires dock-reset - The reader confirmed "Reset sandbox".
 * @fires dock-resize - The reader resized the dock; `detail.heightPx`.
 *
 * @csspart header - The bar above the terminal.
 * @csspart handle - The resize handle on the top edge.
 *
 * @cssprop --sandbox-dock-background - Background of the dock's bar.
 * @cssprop --sandbox-dock-foreground - Text colour of the bar.
 * @cssprop --sandbox-dock-z-index - Stacking order (default 100).
 */
export class SandboxDocsDock extends LitElement {
  static override styles = docsDockStyles;

  static override properties = {
    open: { type: Boolean, reflect: true },
    heightPx: { type: Number, attribute: false },
    target: { attribute: false },
    theme: { type: String },
    activity: { type: String },
    notice: { type: String },
    confirmingReset: { state: true },
    resetting: { type: Boolean },
  };

  declare open: boolean;
  declare heightPx: number;
  /** The session the terminal attaches to (set by the page once it is known). */
  declare target: SessionTarget | undefined;
  declare theme: TerminalTheme;
  /** What runs or waits (`running step 2 · 1 queued`, setup progress). */
  declare activity: string;
  /** Something the reader must be told (a recreated session, a new guest sandbox). */
  declare notice: string;
  declare resetting: boolean;
  declare confirmingReset: boolean;

  constructor() {
    super();
    this.open = false;
    this.heightPx = DEFAULT_DOCK_HEIGHT_PX;
    this.theme = 'auto';
    this.activity = '';
    this.notice = '';
    this.resetting = false;
    this.confirmingReset = false;
  }

  /** The `<sandbox-terminal>` while the dock is open and the session known. */
  get terminal(): SandboxTerminal | null {
    return this.renderRoot?.querySelector?.('sandbox-terminal') ?? null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('heightPx')) this.style.setProperty('--_height', `${this.heightPx}px`);
  }

  protected override render() {
    const target = this.target;
    return html`
      <div
        part="handle"
        class="handle"
        role="separator"
        aria-orientation="horizontal"
        aria-label="Resize the terminal"
        aria-valuemin=${MIN_DOCK_HEIGHT_PX}
        aria-valuemax=${Math.round(maxHeight())}
        aria-valuenow=${this.heightPx}
        tabindex="0"
        @pointerdown=${this.#startDrag}
        @keydown=${this.#resizeByKey}
      ></div>
      <header part="header">
        <span class="title">Terminal</span>
        <span class="info" role="status" aria-live="polite">
          ${this.notice ? html`<span class="notice">${this.notice}</span> · ` : nothing}${this.activity || (target ? `sandbox ${target.sandbox}` : 'connecting…')}
        </span>
        ${this.confirmingReset
          ? html`<span>Reset the sandbox? Its files and shells are lost.</span>
              <button class="danger" @click=${this.#confirmReset}>Reset</button>
              <button @click=${() => (this.confirmingReset = false)}>Cancel</button>`
          : html`<button ?disabled=${this.resetting || !target} @click=${() => (this.confirmingReset = true)}>${this.resetting ? 'Resetting…' : 'Reset sandbox'}</button>`}
        <button aria-label="Close the terminal" @click=${this.#close}>Close</button>
      </header>
      <div class="body">
        ${this.open && target
          ? html`<sandbox-terminal
              .relay=${target.relay}
              .sandbox=${target.sandbox}
              .session=${target.sessionId}
              .getToken=${target.getToken}
              theme=${this.theme}
            ></sandbox-terminal>`
          : nothing}
      </div>
    `;
  }

  #close(): void {
    this.confirmingReset = false;
    this.dispatchEvent(new CustomEvent('dock-close'));
  }

  #confirmReset(): void {
    this.confirmingReset = false;
    this.dispatchEvent(new CustomEvent('dock-reset'));
  }

  #setHeight(heightPx: number): void {
    const clamped = Math.round(Math.min(maxHeight(), Math.max(MIN_DOCK_HEIGHT_PX, heightPx)));
    if (clamped === this.heightPx) return;
    this.heightPx = clamped;
    this.dispatchEvent(new CustomEvent('dock-resize', { detail: { heightPx: clamped } }));
  }

  readonly #startDrag = (event: PointerEvent): void => {
    const handle = event.currentTarget as HTMLElement;
    handle.setPointerCapture(event.pointerId);
    const move = (moveEvent: PointerEvent) => this.#setHeight(window.innerHeight - moveEvent.clientY);
    const end = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', end);
      handle.removeEventListener('pointercancel', end);
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', end);
    handle.addEventListener('pointercancel', end);
    event.preventDefault();
  };

  readonly #resizeByKey = (event: KeyboardEvent): void => {
    const steps: Record<string, number> = { ArrowUp: KEYBOARD_RESIZE_STEP_PX, ArrowDown: -KEYBOARD_RESIZE_STEP_PX, PageUp: 4 * KEYBOARD_RESIZE_STEP_PX, PageDown: -4 * KEYBOARD_RESIZE_STEP_PX };
    const step = steps[event.key];
    if (step === undefined) return;
    event.preventDefault();
    this.#setHeight(this.heightPx + step);
  };
}

function maxHeight(): number {
  return (globalThis.innerHeight ?? 1000) * 0.9;
}

declare global {
  interface HTMLElementTagNameMap {
    'sandbox-docs-dock': SandboxDocsDock;
  }
}
