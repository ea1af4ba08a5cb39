import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { getSandbox, SandboxError, type Sandbox } from '@sandbox-terminal/client';
import { connectionErrorFrom, describeError, sandboxErrorFrom } from './connection-status.ts';
import { tabKeyAction } from './tab-keys.ts';
import { ColorSchemeController } from './controllers/color-scheme-controller.ts';
import { ScrollOverflowController } from './controllers/scroll-overflow-controller.ts';
import { TabCloseController } from './controllers/tab-close-controller.ts';
import { TabRenameController } from './controllers/tab-rename-controller.ts';
import { emit, type StatusChangeDetail } from './events.ts';
import { savedTabsRecord } from './saved-tabs.ts';
import { sandboxOptionsFor, type TokenProvider } from './relay-auth.ts';
import type { SandboxTerminal } from './sandbox-terminal.ts';
import type { TerminalTheme } from './terminal-theme.ts';
import { sessionTabsStyles } from './session-tabs.styles.ts';
import { labelNamesMoreThanCwd, tabLabel } from './tab-label.ts';
import { TabList, type SessionTab, type TabEntry } from './tab-list.ts';

export type { SessionTab } from './tab-list.ts';

/**
 * Tabs over the sessions of one sandbox, each tab a `<sandbox-terminal>`. Hidden tabs stay attached, so their output
 * is never lost; with `persist-key` the open tabs and the active one survive a reload.
 *
 * Keys on a tab: arrows, Home and End move between tabs, Enter or Space goes into its terminal, F2 renames it, Delete
 * closes it (asking first if a program is still running). "+" opens a new tab and puts the keyboard in its terminal
 * at once: what is typed before its shell is up is sent when it is.
 *
 * @tag session-tabs
 * @summary Several shells of one sandbox, in tabs.
 *
 * @fires tab-change - Another tab became active; `detail.sessionId`, `detail.index`.
 * @fires session-created - A new tab's session was created; `detail.sessionId`.
 * @fires session-closed - A tab was closed and its session ended; `detail.sessionId`.
 *
 * @slot toolbar - Content at the right end of the tab bar.
 *
 * @csspart tab-bar - The bar holding the tabs, "+" and the toolbar.
 * @csspart tab - One tab.
 * @csspart tab-dot - A tab's status dot.
 * @csspart tab-label - A tab's name, running command, title or directory.
 * @csspart tab-cwd - A tab's working directory (shown when the label is something else).
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
    screenReader: { type: Boolean, attribute: 'screen-reader' },
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
  /** Turns on every terminal's screen-reader mode. */
  declare screenReader: boolean;

  readonly #colorScheme = new ColorSchemeController(this);
  readonly #overflow = new ScrollOverflowController(this);
  readonly #closing = new TabCloseController(this, {
    tab: (key) => {
      const tab = this.#list.entry(key);
      return tab && { sessionId: tab.sessionId, label: tabLabel(tab) };
    },
    running: (key) => this.#terminalElement(key)?.commandRunning ?? false,
    end: (sessionId) =>
      this.#client()
        .deleteSession(sessionId)
        .catch((error: unknown) => {
          if (!(error instanceof SandboxError && error.code === 'SESSION_NOT_FOUND')) throw error;
        }),
    closed: (key, sessionId) => {
      this.#removeTab(key);
      if (sessionId) emit(this, 'session-closed', { sessionId });
    },
    failed: (sessionId, error) => this.#say(`could not end session ${shortId(sessionId)}: ${describeError(connectionErrorFrom(error))}`),
    focusTab: (key) => this.#tabElement(key)?.focus(),
    focusCancel: () => this.renderRoot.querySelector<HTMLButtonElement>('.confirm-cancel')?.focus(),
  });
  readonly #rename = new TabRenameController(this, { rename: (key, name) => this.#setName(key, name), focusTab: (key) => this.#tabElement(key)?.focus() });
  readonly #list = new TabList();
  #notice = '';
  /** Ids reopened from storage: if one turns out to be gone, its tab is removed (and the user told). */
  readonly #restored = new Set<string>();
  /** `addTab()` calls waiting for their tab's terminal to have a session. */
  readonly #waiting = new Map<string, { resolve: (sessionId: string) => void; reject: (error: Error) => void }>();
  #loadedFor = '';
  #revealActive = false;

  constructor() {
    super();
    this.relay = '';
    this.sandbox = '';
    this.theme = 'dark';
    this.screenReader = false;
  }

  /** The open tabs, in order. */
  get tabs(): readonly SessionTab[] {
    return this.#list.entries.map(({ key: _key, ...tab }) => tab);
  }

  /** The session of the active tab (undefined while a new tab's session is being created). */
  get activeSessionId(): string | undefined {
    return this.#list.entry(this.#list.active)?.sessionId || undefined;
  }

  /** The `<sandbox-terminal>` showing a session (the active one by default). */
  terminalFor(sessionId?: string): SandboxTerminal | undefined {
    const key = sessionId === undefined ? this.#list.active : this.#list.bySession(sessionId)?.key;
    if (!key) return undefined;
    return this.#terminalElement(key) ?? undefined;
  }

  /**
   * Opens a new tab whose terminal creates a session, makes it active and resolves to the session id; rejects with
   * the relay's error if the session could not be created (the tab stays and says so, with a way forward).
   */
  addTab({ focus = false } = {}): Promise<string> {
    const key = this.#list.addNew();
    const created = new Promise<string>((resolve, reject) => this.#waiting.set(key, { resolve, reject }));
    this.#select(key, { focusTerminal: focus });
    return created;
  }

  /** Makes a tab active. */
  selectTab(sessionId: string): void {
    const tab = this.#list.bySession(sessionId);
    if (tab) this.#select(tab.key);
  }

  /** Names a tab; an empty name goes back to its label. */
  renameTab(sessionId: string, name: string): void {
    const tab = this.#list.bySession(sessionId);
    if (tab) this.#setName(tab.key, name);
  }

  /**
   * Closes a tab and ends its session. If a program is still running there, asks first (inline) unless `force`;
   * resolves to false when it only asked.
   */
  async closeTab(sessionId: string, { force = false } = {}): Promise<boolean> {
    const tab = this.#list.bySession(sessionId);
    return tab ? this.#closing.close(tab.key, { force }) : false;
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
    this.#overflow.observe(this.renderRoot.querySelector<HTMLElement>('[role="tablist"]'));
    if (this.#revealActive) {
      // After a select, or after the active tab's label changed its width: keep it wholly in view.
      this.#revealActive = false;
      this.#overflow.reveal(this.#tabElement(this.#list.active));
    }
  }

  protected override render() {
    return html`
      <div part="tab-bar" class="tab-bar">
        <div role="tablist" aria-label="Sessions" @keydown=${this.#handleKeydown}>
          ${repeat(this.#list.entries, (tab) => tab.key, (tab) => this.#renderTab(tab))}
        </div>
        <button part="add-button" class="add" title="New session" aria-label="New session" @click=${() => this.addTab({ focus: true }).catch(() => undefined)}>+</button>
        <div class="toolbar"><slot name="toolbar"></slot></div>
      </div>
      ${this.#closing.render()}
      ${this.#notice
        ? html`<div part="notice" class="banner" role="status">
            <span>${this.#notice}</span><button aria-label="Dismiss" @click=${() => this.#say('')}>×</button>
          </div>`
        : nothing}
      <div part="panels" class="panels">
        ${repeat(this.#list.entries, (tab) => tab.key, (tab) => this.#renderPanel(tab))}
        ${this.#list.entries.length === 0 && this.#loadedFor ? html`<div class="empty">No sessions open: press + to start one.</div>` : nothing}
      </div>
    `;
  }

  #renderTab(tab: TabEntry) {
    const selected = tab.key === this.#list.active;
    const label = tabLabel(tab);
    const renaming = this.#rename.renaming === tab.key;
    const showCwd = Boolean(tab.cwd) && labelNamesMoreThanCwd(tab) && !renaming;
    return html`
      <div
        role="tab"
        part="tab"
        id=${`tab-${tab.key}`}
        data-key=${tab.key}
        data-session-id=${tab.sessionId}
        aria-selected=${selected ? 'true' : 'false'}
        aria-controls=${`panel-${tab.key}`}
        aria-labelledby=${showCwd ? `label-${tab.key} cwd-${tab.key}` : `label-${tab.key}`}
        aria-keyshortcuts="Delete F2"
        tabindex=${selected ? 0 : -1}
        title=${tab.cwd ? `${label} — ${tab.cwd}` : label}
        @click=${() => this.#select(tab.key, { focusTerminal: true })}
        @dblclick=${() => this.#rename.start(tab.key)}
      >
        <span part="tab-dot" class="dot" data-state=${tab.state}></span>
        ${renaming
          ? this.#rename.renderInput(tab.key, label)
          : html`<span part="tab-label" class="label" id=${`label-${tab.key}`}>${label}</span>`}
        ${showCwd ? html`<span part="tab-cwd" class="cwd" id=${`cwd-${tab.key}`}>${tab.cwd}</span>` : nothing}
        <button
          part="close-button"
          class="close"
          tabindex="-1"
          aria-label=${`Close ${label}`}
          @click=${(event: Event) => {
            event.stopPropagation();
            void this.#closing.close(tab.key);
          }}
        >×</button>
      </div>
    `;
  }

  #renderPanel(tab: TabEntry) {
    const active = tab.key === this.#list.active;
    return html`<sandbox-terminal
      part="terminal"
      role="tabpanel"
      id=${`panel-${tab.key}`}
      aria-labelledby=${`tab-${tab.key}`}
      class=${active ? 'active' : ''}
      ?inert=${!active}
      data-key=${tab.key}
      data-session-id=${tab.sessionId}
      .relay=${this.relay}
      .sandbox=${this.sandbox}
      .session=${tab.sessionId || undefined}
      .token=${this.token}
      .getToken=${this.getToken}
      .theme=${this.theme}
      .fontSize=${this.fontSize ?? 14}
      .fontFamily=${this.fontFamily}
      .screenReader=${this.screenReader}
      @session-created=${(event: CustomEvent<{ sessionId: string }>) => {
        // Announced by the tabs themselves (once, from this element), not also by the terminal inside.
        event.stopPropagation();
        this.#adopt(tab.key, event.detail.sessionId, true);
      }}
      @status-change=${(event: CustomEvent<StatusChangeDetail>) => this.#handleStatus(tab.key, event)}
      @title-change=${(event: CustomEvent<{ title: string }>) => this.#patch(tab.key, { title: event.detail.title })}
      @cwd-change=${(event: CustomEvent<{ cwd: string }>) => this.#patch(tab.key, { cwd: event.detail.cwd })}
      @command-change=${(event: CustomEvent<{ command?: string }>) => this.#patch(tab.key, { command: event.detail.command })}
    ></sandbox-terminal>`;
  }

  async #loadTabs(): Promise<void> {
    const key = JSON.stringify([this.relay, this.sandbox, this.persistKey ?? null]);
    if (key === this.#loadedFor || !this.relay || !this.sandbox) return;
    this.#loadedFor = key;
    const saved = this.persistKey ? savedTabsRecord(this.persistKey, this).read() : undefined;
    this.#list.load(saved);
    this.#restored.clear();
    for (const tab of this.#list.entries) this.#restored.add(tab.sessionId);
    this.requestUpdate();
    if (this.#list.entries.length === 0) await this.addTab().catch(() => undefined);
  }

  /** A new tab's terminal has its session (created, or an existing one the user chose instead). */
  #adopt(key: string, sessionId: string, created: boolean): void {
    const tab = this.#list.entry(key);
    if (!tab || tab.sessionId === sessionId) return;
    const duplicate = this.#list.bySession(sessionId);
    if (duplicate) {
      // The user chose a session that already has a tab: show that one.
      this.#removeTab(key);
      this.#select(duplicate.key, { focusTerminal: true });
    } else {
      this.#patch(key, { sessionId });
      this.#save();
      if (created) emit(this, 'session-created', { sessionId, sandbox: this.sandbox });
      if (this.#list.active === key) emit(this, 'tab-change', { sessionId, index: this.#list.indexOf(key) });
    }
    this.#waiting.get(key)?.resolve(sessionId);
    this.#waiting.delete(key);
  }

  #handleStatus(key: string, event: CustomEvent<StatusChangeDetail>): void {
    const { status } = event.detail;
    const terminal = event.target as SandboxTerminal;
    this.#patch(key, { state: status.state });
    const tab = this.#list.entry(key);
    if (!tab) return;
    if (status.state === 'connected') {
      this.#restored.delete(tab.sessionId);
      if (!tab.sessionId && terminal.sessionId) this.#adopt(key, terminal.sessionId, false);
    }
    if (status.state === 'error' && !tab.sessionId && status.error) this.#rejectWaiting(key, sandboxErrorFrom(status.error));
    if (status.state === 'error' && status.error?.code === 'SESSION_NOT_FOUND' && this.#restored.has(tab.sessionId)) {
      this.#restored.delete(tab.sessionId);
      this.#removeTab(key);
      this.#say(`session ${shortId(tab.sessionId)} no longer exists on the relay: its tab was removed`);
      if (this.#list.entries.length === 0) void this.addTab().catch(() => undefined);
    }
  }

  #rejectWaiting(key: string, error: Error): void {
    this.#waiting.get(key)?.reject(error);
    this.#waiting.delete(key);
  }

  #handleKeydown = (event: KeyboardEvent): void => {
    const active = this.#list.active;
    if (this.#rename.renaming || !active) return;
    const action = tabKeyAction(event.key, Math.max(0, this.#list.indexOf(active)), this.#list.entries.length);
    if (!action) return;
    event.preventDefault();
    if ('move' in action) this.#select(this.#list.entries[action.move]!.key, { focusTab: true });
    else if (action.act === 'rename') this.#rename.start(active);
    else if (action.act === 'close') void this.#closing.close(active);
    else this.terminalFor()?.focus();
  };

  #select(key: string, { focusTab = false, focusTerminal = false } = {}): void {
    const changed = this.#list.activate(key);
    this.#revealActive = true;
    this.#save();
    this.requestUpdate();
    const tab = this.#list.entry(key);
    // A new tab is announced once it has its session (see #adopt): the event always names one.
    if (changed && tab?.sessionId) emit(this, 'tab-change', { sessionId: tab.sessionId, index: this.#list.indexOf(key) });
    void this.updateComplete.then(() => {
      if (focusTerminal) this.#terminalElement(key)?.focus();
      else if (focusTab) this.#tabElement(key)?.focus();
    });
  }

  #removeTab(key: string): void {
    const focusWasHere = this.matches(':focus-within');
    const { next } = this.#list.remove(key);
    this.#rejectWaiting(key, new Error('session-tabs: the tab was closed before its session was created'));
    if (next) this.#select(next, { focusTab: focusWasHere });
    this.#save();
    this.requestUpdate();
  }

  #setName(key: string, name: string): void {
    this.#list.rename(key, name);
    this.#save();
    this.requestUpdate();
  }

  #tabElement(key: string | undefined): HTMLElement | null {
    return key === undefined ? null : this.renderRoot.querySelector<HTMLElement>(`[role="tab"][data-key="${CSS.escape(key)}"]`);
  }

  #terminalElement(key: string): SandboxTerminal | null {
    return this.renderRoot.querySelector<SandboxTerminal>(`sandbox-terminal[data-key="${CSS.escape(key)}"]`);
  }

  #patch(key: string, patch: Partial<SessionTab>): void {
    if (key === this.#list.active && ('cwd' in patch || 'command' in patch || 'title' in patch || 'name' in patch)) this.#revealActive = true;
    if (this.#list.patch(key, patch)) this.requestUpdate();
  }

  #say(notice: string): void {
    this.#notice = notice;
    this.requestUpdate();
  }

  #save(): void {
    if (this.persistKey) savedTabsRecord(this.persistKey, this).write(this.#list.saved());
  }

  #client(): Sandbox {
    return getSandbox(this.relay, this.sandbox, sandboxOptionsFor(this));
  }
}

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}
