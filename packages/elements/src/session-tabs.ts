import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { getSandbox, SandboxError, type Sandbox } from '@sandbox-terminal/client';
import type { ConnectionState } from './connection-status.ts';
import { ColorSchemeController } from './controllers/color-scheme-controller.ts';
import { emit, type StatusChangeDetail } from './events.ts';
import type { SandboxTerminal, TerminalTheme } from './sandbox-terminal.ts';
import { sessionTabsStyles } from './session-tabs.styles.ts';
import { sandboxOptionsFor, type TokenProvider } from './relay-auth.ts';
import { PersistedRecord } from './session-store.ts';

/** One tab: a session of the sandbox and what its terminal last reported. */
export interface SessionTab {
  sessionId: string;
  /** Set by the user (double-click or F2); otherwise the label is the shell's title. */
  name?: string;
  title: string;
  cwd?: string;
  state: ConnectionState;
}

interface SavedTabs {
  tabs: Array<{ sessionId: string; name?: string }>;
  active?: string;
}

function isSavedTabs(value: unknown): value is SavedTabs {
  const tabs = (value as { tabs?: unknown } | null)?.tabs;
  return Array.isArray(tabs) && tabs.every((tab) => typeof (tab as { sessionId?: unknown })?.sessionId === 'string');
}

/**
 * Tabs over the sessions of one sandbox, each tab a `<sandbox-terminal>`. Hidden tabs stay attached, so their output
 * is never lost; with `persist-key` the open tabs and the active one survive a reload.
 *
 * @tag session-tabs
 * @summary Several shells of one sandbox, in tabs.
 *
 * @fires tab-change - Another tab became active; `detail.sessionId`, `detail.index`.
 * @fires session-created - "+" created a session; `detail.sessionId`.
 * @fires session-closed - A tab was closed and its session ended; `detail.sessionId`.
 *
 * @slot toolbar - Content at the right end of the tab bar.
 *
 * @csspart tab-bar - The bar holding the tabs, "+" and the toolbar.
 * @csspart tab - One tab.
 * @csspart tab-dot - A tab's status dot.
 * @csspart tab-label - A tab's name or shell title.
 * @csspart tab-cwd - A tab's working directory.
 * @csspart close-button - A tab's ×.
 * @csspart add-button - The "+" button.
 * @csspart rename-input - The text field shown while renaming a tab.
 * @csspart confirm - The question asked before closing a tab whose program is still running.
 * @csspart notice - A message about the tabs (a session that no longer exists, an error).
 * @csspart panels - The area holding the terminals.
 * @csspart terminal - Each tab's `<sandbox-terminal>`.
 *
 * @cssprop --session-tabs-bar-background - Tab bar background.
 * @cssprop --session-tabs-bar-foreground - Tab bar text colour.
 * @cssprop --session-tabs-active-background - Active tab background (defaults to the terminal background).
 * @cssprop --session-tabs-active-foreground - Active tab text colour.
 * @cssprop --session-tabs-accent - Active tab marker and focus ring.
 * @cssprop --session-tabs-border-radius - Corner radius of the element.
 */
export class SessionTabs extends LitElement {
  static override styles = sessionTabsStyles;

  static override properties = {
    relay: { type: String },
    sandbox: { type: String },
    token: { type: String },
    getToken: { attribute: false },
    persistKey: { type: String, attribute: 'persist-key' },
    theme: { type: String, reflect: true },
    fontSize: { type: Number, attribute: 'font-size' },
    fontFamily: { type: String, attribute: 'font-family' },
  };

  /** Base URL of the relay. */
  declare relay: string;
  /** The sandbox whose sessions the tabs show. */
  declare sandbox: string;
  /** Bearer token for the relay. */
  declare token: string | undefined;
  /** Returns a bearer token; asked before every relay call and every terminal (re)connection. See `<sandbox-terminal>`. */
  declare getToken: TokenProvider | undefined;
  /** Remember the open tabs and the active one in `localStorage` under this key. */
  declare persistKey: string | undefined;
  /** `dark`, `light` or `auto`; passed to every terminal. */
  declare theme: TerminalTheme;
  /** Terminal font size in CSS pixels. */
  declare fontSize: number | undefined;
  /** Terminal font family. */
  declare fontFamily: string | undefined;

  readonly #colorScheme = new ColorSchemeController(this);
  #tabs: SessionTab[] = [];
  #active: string | undefined;
  #renaming: string | undefined;
  #confirmClose: string | undefined;
  #notice = '';
  /** Ids reopened from storage: if one turns out to be gone, its tab is removed (and the user told). */
  readonly #restored = new Set<string>();
  #loadedFor = '';

  constructor() {
    super();
    this.relay = '';
    this.sandbox = '';
    this.theme = 'dark';
  }

  /** The open tabs, in order. */
  get tabs(): readonly SessionTab[] {
    return this.#tabs.map((tab) => ({ ...tab }));
  }

  /** The session of the active tab. */
  get activeSessionId(): string | undefined {
    return this.#active;
  }

  /** The `<sandbox-terminal>` showing a session (the active one by default). */
  terminalFor(sessionId = this.#active): SandboxTerminal | undefined {
    if (!sessionId) return undefined;
    return this.renderRoot.querySelector<SandboxTerminal>(`sandbox-terminal[data-session-id="${CSS.escape(sessionId)}"]`) ?? undefined;
  }

  /** Creates a session, opens it in a new tab and makes that tab active; resolves to the session id. */
  async addTab(): Promise<string> {
    try {
      const sessionId = await this.#client().createSession();
      this.#tabs = [...this.#tabs, { sessionId, title: '', state: 'connecting' }];
      this.#select(sessionId);
      emit(this, 'session-created', { sessionId, sandbox: this.sandbox });
      return sessionId;
    } catch (error) {
      this.#say(`could not create a session: ${describe(error)}`);
      throw error;
    }
  }

  /** Makes a tab active. */
  selectTab(sessionId: string): void {
    if (this.#tabs.some((tab) => tab.sessionId === sessionId)) this.#select(sessionId);
  }

  /** Names a tab; an empty name goes back to the shell's title. */
  renameTab(sessionId: string, name: string): void {
    const trimmed = name.trim();
    this.#tabs = this.#tabs.map((tab) => {
      if (tab.sessionId !== sessionId) return tab;
      const { name: _old, ...rest } = tab;
      return trimmed ? { ...rest, name: trimmed } : rest;
    });
    this.#save();
  }

  /**
   * Closes a tab and ends its session. If a program is still running there, asks first (inline) unless `force`;
   * resolves to false when it only asked.
   */
  async closeTab(sessionId: string, { force = false } = {}): Promise<boolean> {
    if (!force && this.terminalFor(sessionId)?.commandRunning) {
      this.#confirmClose = sessionId;
      this.requestUpdate();
      return false;
    }
    this.#confirmClose = undefined;
    try {
      await this.#client().deleteSession(sessionId);
    } catch (error) {
      if (!(error instanceof SandboxError && error.code === 'SESSION_NOT_FOUND')) {
        this.#say(`could not end session ${shortId(sessionId)}: ${describe(error)}`);
        return false;
      }
    }
    this.#removeTab(sessionId);
    emit(this, 'session-closed', { sessionId });
    return true;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#loadTabs();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    this.dataset.scheme = this.theme === 'auto' ? this.#colorScheme.preferred : this.theme;
    if (this.isConnected && this.#loadedFor && (changed.has('relay') || changed.has('sandbox') || changed.has('persistKey'))) {
      void this.#loadTabs();
    }
  }

  protected override updated(): void {
    const input = this.renderRoot.querySelector<HTMLInputElement>('input.rename');
    if (input && input.dataset.focused === undefined) {
      input.dataset.focused = '';
      input.focus();
      input.select();
    }
  }

  protected override render() {
    const confirming = this.#tabs.find((tab) => tab.sessionId === this.#confirmClose);
    return html`
      <div part="tab-bar" class="tab-bar">
        <div role="tablist" aria-label="Sessions" @keydown=${this.#handleKeydown}>
          ${repeat(this.#tabs, (tab) => tab.sessionId, (tab) => this.#renderTab(tab))}
        </div>
        <button part="add-button" class="add" title="New session" aria-label="New session" @click=${() => this.addTab().catch(() => undefined)}>+</button>
        <div class="toolbar"><slot name="toolbar"></slot></div>
      </div>
      ${confirming
        ? html`<div part="confirm" class="banner" role="alertdialog" aria-label="Close tab">
            <span>A program is still running in “${label(confirming)}”. Close the tab and end it?</span>
            <button class="confirm-close" @click=${() => this.closeTab(confirming.sessionId, { force: true })}>Close</button>
            <button class="confirm-cancel" @click=${() => this.#cancelClose()}>Cancel</button>
          </div>`
        : nothing}
      ${this.#notice
        ? html`<div part="notice" class="banner" role="status">
            <span>${this.#notice}</span><button aria-label="Dismiss" @click=${() => this.#say('')}>×</button>
          </div>`
        : nothing}
      <div part="panels" class="panels">
        ${repeat(this.#tabs, (tab) => tab.sessionId, (tab) => this.#renderPanel(tab))}
        ${this.#tabs.length === 0 && this.#loadedFor ? html`<div class="empty">No sessions open: press + to start one.</div>` : nothing}
      </div>
    `;
  }

  #renderTab(tab: SessionTab) {
    const selected = tab.sessionId === this.#active;
    const name = label(tab);
    return html`
      <div
        role="tab"
        part="tab"
        id=${`tab-${tab.sessionId}`}
        data-session-id=${tab.sessionId}
        aria-selected=${selected ? 'true' : 'false'}
        aria-controls=${`panel-${tab.sessionId}`}
        tabindex=${selected ? 0 : -1}
        title=${tab.cwd ? `${name} — ${tab.cwd}` : name}
        @click=${() => this.#select(tab.sessionId, { focusTerminal: true })}
        @dblclick=${() => this.#startRename(tab.sessionId)}
      >
        <span part="tab-dot" class="dot" data-state=${tab.state}></span>
        ${this.#renaming === tab.sessionId
          ? html`<input
              part="rename-input"
              class="rename"
              aria-label="Tab name"
              .value=${name}
              @keydown=${(event: KeyboardEvent) => this.#handleRenameKey(event, tab.sessionId)}
              @blur=${(event: FocusEvent) => this.#finishRename(tab.sessionId, (event.target as HTMLInputElement).value)}
              @click=${(event: Event) => event.stopPropagation()}
            />`
          : html`<span part="tab-label" class="label">${name}</span>`}
        ${tab.cwd && this.#renaming !== tab.sessionId ? html`<span part="tab-cwd" class="cwd">${tab.cwd}</span>` : nothing}
        <button
          part="close-button"
          class="close"
          tabindex="-1"
          aria-label=${`Close ${name}`}
          @click=${(event: Event) => {
            event.stopPropagation();
            void this.closeTab(tab.sessionId);
          }}
        >×</button>
      </div>
    `;
  }

  #renderPanel(tab: SessionTab) {
    const active = tab.sessionId === this.#active;
    return html`<sandbox-terminal
      part="terminal"
      role="tabpanel"
      id=${`panel-${tab.sessionId}`}
      aria-labelledby=${`tab-${tab.sessionId}`}
      class=${active ? 'active' : ''}
      ?inert=${!active}
      data-session-id=${tab.sessionId}
      .relay=${this.relay}
      .sandbox=${this.sandbox}
      .session=${tab.sessionId}
      .token=${this.token}
      .getToken=${this.getToken}
      .theme=${this.theme}
      .fontSize=${this.fontSize ?? 14}
      .fontFamily=${this.fontFamily}
      @status-change=${(event: CustomEvent<StatusChangeDetail>) => this.#handleStatus(tab.sessionId, event.detail)}
      @title-change=${(event: CustomEvent<{ title: string }>) => this.#patch(tab.sessionId, { title: event.detail.title })}
      @cwd-change=${(event: CustomEvent<{ cwd: string }>) => this.#patch(tab.sessionId, { cwd: event.detail.cwd })}
    ></sandbox-terminal>`;
  }

  async #loadTabs(): Promise<void> {
    const key = JSON.stringify([this.relay, this.sandbox, this.persistKey ?? null]);
    if (key === this.#loadedFor || !this.relay || !this.sandbox) return;
    this.#loadedFor = key;
    const saved = this.#storage()?.read();
    this.#restored.clear();
    this.#tabs = (saved?.tabs ?? []).map(({ sessionId, name }) => {
      this.#restored.add(sessionId);
      return { sessionId, title: '', state: 'connecting', ...(name ? { name } : {}) };
    });
    this.#active = this.#tabs.find((tab) => tab.sessionId === saved?.active)?.sessionId ?? this.#tabs[0]?.sessionId;
    this.requestUpdate();
    if (this.#tabs.length === 0) await this.addTab().catch(() => undefined);
  }

  #handleStatus(sessionId: string, { status }: StatusChangeDetail): void {
    this.#patch(sessionId, { state: status.state });
    if (status.state === 'connected') this.#restored.delete(sessionId);
    if (status.state === 'error' && status.error?.code === 'SESSION_NOT_FOUND' && this.#restored.has(sessionId)) {
      this.#restored.delete(sessionId);
      this.#removeTab(sessionId);
      this.#say(`session ${shortId(sessionId)} no longer exists on the relay: its tab was removed`);
      if (this.#tabs.length === 0) void this.addTab().catch(() => undefined);
    }
  }

  #handleKeydown = (event: KeyboardEvent): void => {
    if (this.#renaming || this.#tabs.length === 0) return;
    const index = Math.max(0, this.#tabs.findIndex((tab) => tab.sessionId === this.#active));
    const last = this.#tabs.length - 1;
    const moves: Record<string, number> = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      const tab = this.#tabs[target];
      if (tab) this.#select(tab.sessionId, { focusTab: true });
    } else if (event.key === 'F2' && this.#active) {
      event.preventDefault();
      this.#startRename(this.#active);
    } else if (event.key === 'Delete' && this.#active) {
      event.preventDefault();
      void this.closeTab(this.#active);
    } else if ((event.key === 'Enter' || event.key === ' ') && this.#active) {
      event.preventDefault();
      this.terminalFor()?.focus();
    }
  };

  #select(sessionId: string, { focusTab = false, focusTerminal = false } = {}): void {
    const changed = sessionId !== this.#active;
    this.#active = sessionId;
    this.#save();
    this.requestUpdate();
    if (changed) emit(this, 'tab-change', { sessionId, index: this.#tabs.findIndex((tab) => tab.sessionId === sessionId) });
    if (focusTab || focusTerminal) {
      void this.updateComplete.then(() => {
        if (focusTerminal) this.terminalFor(sessionId)?.focus();
        else this.renderRoot.querySelector<HTMLElement>(`[role="tab"][data-session-id="${CSS.escape(sessionId)}"]`)?.focus();
      });
    }
  }

  #removeTab(sessionId: string): void {
    const index = this.#tabs.findIndex((tab) => tab.sessionId === sessionId);
    if (index < 0) return;
    this.#tabs = this.#tabs.filter((tab) => tab.sessionId !== sessionId);
    if (this.#active === sessionId) {
      const next = this.#tabs[Math.min(index, this.#tabs.length - 1)];
      this.#active = undefined;
      if (next) this.#select(next.sessionId);
    }
    this.#save();
    this.requestUpdate();
  }

  #startRename(sessionId: string): void {
    this.#renaming = sessionId;
    this.requestUpdate();
  }

  #handleRenameKey(event: KeyboardEvent, sessionId: string): void {
    event.stopPropagation();
    if (event.key === 'Enter') this.#finishRename(sessionId, (event.target as HTMLInputElement).value);
    if (event.key === 'Escape') this.#finishRename(sessionId, undefined);
  }

  #finishRename(sessionId: string, name: string | undefined): void {
    if (this.#renaming !== sessionId) return;
    this.#renaming = undefined;
    if (name !== undefined) this.renameTab(sessionId, name);
    this.requestUpdate();
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLElement>(`[role="tab"][data-session-id="${CSS.escape(sessionId)}"]`)?.focus(),
    );
  }

  #cancelClose(): void {
    this.#confirmClose = undefined;
    this.requestUpdate();
  }

  #patch(sessionId: string, patch: Partial<SessionTab>): void {
    // A closed tab's terminal still reports its teardown; that tab is gone already.
    if (!this.#tabs.some((tab) => tab.sessionId === sessionId)) return;
    this.#tabs = this.#tabs.map((tab) => (tab.sessionId === sessionId ? { ...tab, ...patch } : tab));
    this.requestUpdate();
  }

  #say(notice: string): void {
    this.#notice = notice;
    this.requestUpdate();
  }

  #save(): void {
    const saved: SavedTabs = {
      tabs: this.#tabs.map(({ sessionId, name }) => (name ? { sessionId, name } : { sessionId })),
      ...(this.#active ? { active: this.#active } : {}),
    };
    this.#storage()?.write(saved);
  }

  #storage(): PersistedRecord<SavedTabs> | undefined {
    if (!this.persistKey) return undefined;
    return new PersistedRecord('tabs', this.persistKey, { relay: this.relay, sandbox: this.sandbox }, isSavedTabs);
  }

  #client(): Sandbox {
    return getSandbox(this.relay, this.sandbox, sandboxOptionsFor(this));
  }
}

function label(tab: SessionTab): string {
  return tab.name || tab.title || 'bash';
}

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
