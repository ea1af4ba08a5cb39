import { html, nothing, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';

export interface TabCloseOptions {
  /** The tab's session (empty while a new tab's is being created) and label; undefined for a tab that is gone. */
  tab: (key: string) => { sessionId: string; label: string } | undefined;
  /** True while a program started in the tab's terminal is still running. */
  running: (key: string) => boolean;
  /** Ends the session on the relay. */
  end: (sessionId: string) => Promise<void>;
  /** The tab is closed: remove it. */
  closed: (key: string, sessionId: string) => void;
  /** The relay would not end the session: say so (the tab stays). */
  failed: (sessionId: string, error: unknown) => void;
  focusTab: (key: string) => void;
  /** Puts the keyboard on the question's safe answer. */
  focusCancel: () => void;
}

/**
 * Closing a tab: at once, or, when a program is still running in it, after asking (inline, the keyboard on "Cancel",
 * so that a second Delete or an Enter is not a yes).
 */
export class TabCloseController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #options: TabCloseOptions;
  #asking: string | undefined;

  constructor(host: ReactiveControllerHost, options: TabCloseOptions) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  /** Resolves to true when the tab was closed, false when it only asked or the relay refused. */
  async close(key: string, { force = false } = {}): Promise<boolean> {
    const tab = this.#options.tab(key);
    if (!tab) return false;
    if (!force && this.#options.running(key)) {
      this.#asking = key;
      this.#host.requestUpdate();
      void this.#host.updateComplete.then(() => this.#options.focusCancel());
      return false;
    }
    this.#asking = undefined;
    this.#host.requestUpdate();
    if (tab.sessionId) {
      try {
        await this.#options.end(tab.sessionId);
      } catch (error) {
        this.#options.failed(tab.sessionId, error);
        return false;
      }
    }
    this.#options.closed(key, tab.sessionId);
    return true;
  }

  /** The question, while there is one. */
  render(): TemplateResult | typeof nothing {
    const key = this.#asking;
    const tab = key === undefined ? undefined : this.#options.tab(key);
    if (key === undefined || !tab) return nothing;
    return html`<div part="confirm" class="banner" role="alertdialog" aria-label="Close tab" aria-describedby="confirm-text">
      <span id="confirm-text">A program is still running in “${tab.label}”. Close the tab and end it?</span>
      <button class="confirm-close" @click=${() => this.close(key, { force: true })}>Close</button>
      <button class="confirm-cancel" @click=${() => this.#cancel(key)}>Cancel</button>
    </div>`;
  }

  hostDisconnected(): void {
    this.#asking = undefined;
  }

  #cancel(key: string): void {
    this.#asking = undefined;
    this.#host.requestUpdate();
    void this.#host.updateComplete.then(() => this.#options.focusTab(key));
  }
}
