import { html, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';

export interface TabRenameOptions {
  /** Gives the tab its new name (empty: back to its label). */
  rename: (key: string, name: string) => void;
  /** Puts the keyboard back on the tab when renaming ends. */
  focusTab: (key: string) => void;
}

/**
 * Renaming a tab in place (double-click or F2): the text field, Enter to keep the name, Escape or leaving to end
 * without (leaving keeps what was typed), and the keyboard back on the tab afterwards.
 */
export class TabRenameController implements ReactiveController {
  readonly #host: ReactiveControllerHost & { renderRoot: HTMLElement | DocumentFragment };
  readonly #options: TabRenameOptions;
  #renaming: string | undefined;
  #focused = false;

  constructor(host: ReactiveControllerHost & { renderRoot: HTMLElement | DocumentFragment }, options: TabRenameOptions) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  /** The key of the tab being renamed. */
  get renaming(): string | undefined {
    return this.#renaming;
  }

  start(key: string): void {
    this.#renaming = key;
    this.#focused = false;
    this.#host.requestUpdate();
  }

  /** The field, for the tab being renamed. */
  renderInput(key: string, label: string): TemplateResult {
    return html`<input
      part="rename-input"
      class="rename"
      aria-label="Tab name"
      .value=${label}
      @keydown=${(event: KeyboardEvent) => {
        event.stopPropagation();
        if (event.key === 'Enter') this.#finish(key, (event.target as HTMLInputElement).value);
        if (event.key === 'Escape') this.#finish(key, undefined);
      }}
      @blur=${(event: FocusEvent) => this.#finish(key, (event.target as HTMLInputElement).value)}
      @click=${(event: Event) => event.stopPropagation()}
    />`;
  }

  hostUpdated(): void {
    if (this.#renaming === undefined || this.#focused) return;
    const input = this.#host.renderRoot.querySelector<HTMLInputElement>('input.rename');
    if (!input) return;
    this.#focused = true;
    input.focus();
    input.select();
  }

  #finish(key: string, name: string | undefined): void {
    if (this.#renaming !== key) return;
    this.#renaming = undefined;
    if (name !== undefined) this.#options.rename(key, name);
    this.#host.requestUpdate();
    void this.#host.updateComplete.then(() => this.#options.focusTab(key));
  }
}
