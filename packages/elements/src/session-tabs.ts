import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { getSandbox, SandboxError, type Sandbox } from '@sandbox-terminal/client';
import { describeError, type ConnectionError, type ConnectionState } from './connection-status.ts';
import { ColorSchemeController } from './controllers/color-scheme-controller.ts';
import { ScrollOverflowController } from './controllers/scroll-overflow-controller.ts';
import { emit, type StatusChangeDetail } from './events.ts';
import { PersistedRecord } from './persisted-record.ts';
import { sandboxOptionsFor, type TokenProvider } from './relay-auth.ts';
import type { SandboxTerminal, TerminalTheme } from './sandbox-terminal.ts';
import { sessionTabsStyles } from './session-tabs.styles.ts';
import { labelNamesMoreThanCwd, tabLabel } from './tab-label.ts';

/** One tab: a session of the sandbox and what its terminal last reported. */
export interface SessionTab {
  /** Empty while a new tab's terminal is still creating its session. */
  sessionId: string;
  /** Set by the user (double-click or F2); otherwise the label is the running command, a title or the cwd. */
  name?: string;
  title: string;
  cwd?: string;
  /** The command typed in this tab that is running. */
  command?: string;
  state: ConnectionState;
}

/** A tab and the key its DOM is kept under: its session id, or a temporary one until a new tab's session exists. */
interface TabEntry extends SessionTab {
  key: string;
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
  #tabs: TabEntry[] = [];
  #active: string | undefined;
  #renaming: string | undefined;
  #confirmClose: string | undefined;
  #notice = '';
  #newTabs = 0;
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
    return this.#tabs.map(({ key: _key, ...tab }) => tab);
  }

  /** The session of the active tab (undefined while a new tab's session is being created). */
  get activeSessionId(): string | undefined {
    return this.#entry(this.#active)?.sessionId || undefined;
  }

  /** The `<sandbox-terminal>` showing a session (the active one by default). */
  terminalFor(sessionId?: string): SandboxTerminal | undefined {
    const key = sessionId === undefined ? this.#active : this.#tabs.find((tab) => tab.sessionId === sessionId)?.key;
    if (!key) return undefined;
    return this.renderRoot.querySelector<SandboxTerminal>(`sandbox-terminal[data-key="${CSS.escape(key)}"]`) ?? undefined;
  }

  /**
   * Opens a new tab whose terminal creates a session, makes it active and resolves to the session id; rejects with
   * the relay's error if the session could not be created (the tab stays and says so, with a way forward).
   */
  addTab({ focus = false } = {}): Promise<string> {
    const key = `new-${++this.#newTabs}`;
    this.#tabs = [...this.#tabs, { key, sessionId: '', title: '', state: 'connecting' }];
    const created = new Promise<string>((resolve, reject) => this.#waiting.set(key, { resolve, reject }));
    this.#select(key, { focusTerminal: focus });
    return created;
  }

  /** Makes a tab active. */
  selectTab(sessionId: string): void {
    const tab = this.#tabs.find((candidate) => candidate.sessionId === sessionId);
    if (tab) this.#select(tab.key);
  }

  /** Names a tab; an empty name goes back to its label. */
  renameTab(sessionId: string, name: string): void {
    const tab = this.#tabs.find((candidate) => candidate.sessionId === sessionId);
    if (tab) this.#rename(tab.key, name);
  }

  /**
   * Closes a tab and ends its session. If a program is still running there, asks first (inline) unless `force`;
   * resolves to false when it only asked.
   */
  async closeTab(sessionId: string, { force = false } = {}): Promise<boolean> {
    const tab = this.#tabs.find((candidate) => candidate.sessionId === sessionId);
    return tab ? this.#close(tab.key, { force }) : false;
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
      this.#overflow.reveal(this.renderRoot.querySelector<HTMLElement>(`[role="tab"][data-key="${CSS.escape(this.#active ?? '')}"]`));
    }
    const input = this.renderRoot.querySelector<HTMLInputElement>('input.rename');
    if (input && input.dataset.focused === undefined) {
      input.dataset.focused = '';
      input.focus();
      input.select();
    }
  }

  protected override render() {
    const confirming = this.#entry(this.#confirmClose);
    return html`
      <div part="tab-bar" class="tab-bar">
        <div role="tablist" aria-label="Sessions" @keydown=${this.#handleKeydown}>
          ${repeat(this.#tabs, (tab) => tab.key, (tab) => this.#renderTab(tab))}
        </div>
        <button part="add-button" class="add" title="New session" aria-label="New session" @click=${() => this.addTab({ focus: true }).catch(() => undefined)}>+</button>
        <div class="toolbar"><slot name="toolbar"></slot></div>
      </div>
      ${confirming
        ? html`<div part="confirm" class="banner" role="alertdialog" aria-label="Close tab" aria-describedby="confirm-text">
            <span id="confirm-text">A program is still running in “${tabLabel(confirming)}”. Close the tab and end it?</span>
            <button class="confirm-close" @click=${() => this.#close(confirming.key, { force: true })}>Close</button>
            <button class="confirm-cancel" @click=${() => this.#cancelClose()}>Cancel</button>
          </div>`
        : nothing}
      ${this.#notice
        ? html`<div part="notice" class="banner" role="status">
            <span>${this.#notice}</span><button aria-label="Dismiss" @click=${() => this.#say('')}>×</button>
          </div>`
        : nothing}
      <div part="panels" class="panels">
        ${repeat(this.#tabs, (tab) => tab.key, (tab) => this.#renderPanel(tab))}
        ${this.#tabs.length === 0 && this.#loadedFor ? html`<div class="empty">No sessions open: press + to start one.</div>` : nothing}
      </div>
    `;
  }

  #renderTab(tab: TabEntry) {
    const selected = tab.key === this.#active;
    const label = tabLabel(tab);
    const showCwd = Boolean(tab.cwd) && labelNamesMoreThanCwd(tab) && this.#renaming !== tab.key;
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
        @dblclick=${() => this.#startRename(tab.key)}
      >
        <span part="tab-dot" class="dot" data-state=${tab.state}></span>
        ${this.#renaming === tab.key
          ? html`<input
              part="rename-input"
              class="rename"
              aria-label="Tab name"
              .value=${label}
              @keydown=${(event: KeyboardEvent) => this.#handleRenameKey(event, tab.key)}
              @blur=${(event: FocusEvent) => this.#finishRename(tab.key, (event.target as HTMLInputElement).value)}
              @click=${(event: Event) => event.stopPropagation()}
            />`
          : html`<span part="tab-label" class="label" id=${`label-${tab.key}`}>${label}</span>`}
        ${showCwd ? html`<span part="tab-cwd" class="cwd" id=${`cwd-${tab.key}`}>${tab.cwd}</span>` : nothing}
        <button
          part="close-button"
          class="close"
          tabindex="-1"
          aria-label=${`Close ${label}`}
          @click=${(event: Event) => {
            event.stopPropagation();
            void this.#close(tab.key);
          }}
        >×</button>
      </div>
    `;
  }

  #renderPanel(tab: TabEntry) {
    const active = tab.key === this.#active;
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
    const saved = this.#storage()?.read();
    this.#restored.clear();
    this.#tabs = (saved?.tabs ?? []).map(({ sessionId, name }) => {
      this.#restored.add(sessionId);
      return { key: sessionId, sessionId, title: '', state: 'connecting', ...(name ? { name } : {}) };
    });
    this.#active = this.#tabs.find((tab) => tab.sessionId === saved?.active)?.key ?? this.#tabs[0]?.key;
    this.requestUpdate();
    if (this.#tabs.length === 0) await this.addTab().catch(() => undefined);
  }

  /** A new tab's terminal has its session (created, or an existing one the user chose instead). */
  #adopt(key: string, sessionId: string, created: boolean): void {
    const tab = this.#entry(key);
    if (!tab || tab.sessionId === sessionId) return;
    const duplicate = this.#tabs.find((other) => other.sessionId === sessionId);
    if (duplicate) {
      // The user chose a session that already has a tab: show that one.
      this.#removeTab(key);
      this.#select(duplicate.key, { focusTerminal: true });
    } else {
      this.#patch(key, { sessionId });
      this.#save();
      if (created) emit(this, 'session-created', { sessionId, sandbox: this.sandbox });
      if (this.#active === key) emit(this, 'tab-change', { sessionId, index: this.#tabs.findIndex((other) => other.key === key) });
    }
    this.#waiting.get(key)?.resolve(sessionId);
    this.#waiting.delete(key);
  }

  #handleStatus(key: string, event: CustomEvent<StatusChangeDetail>): void {
    const { status } = event.detail;
    const terminal = event.target as SandboxTerminal;
    this.#patch(key, { state: status.state });
    const tab = this.#entry(key);
    if (!tab) return;
    if (status.state === 'connected') {
      this.#restored.delete(tab.sessionId);
      if (!tab.sessionId && terminal.sessionId) this.#adopt(key, terminal.sessionId, false);
    }
    if (status.state === 'error' && !tab.sessionId && status.error) this.#rejectWaiting(key, errorFor(status.error));
    if (status.state === 'error' && status.error?.code === 'SESSION_NOT_FOUND' && this.#restored.has(tab.sessionId)) {
      this.#restored.delete(tab.sessionId);
      this.#removeTab(key);
      this.#say(`session ${shortId(tab.sessionId)} no longer exists on the relay: its tab was removed`);
      if (this.#tabs.length === 0) void this.addTab().catch(() => undefined);
    }
  }

  #rejectWaiting(key: string, error: Error): void {
    this.#waiting.get(key)?.reject(error);
    this.#waiting.delete(key);
  }

  #handleKeydown = (event: KeyboardEvent): void => {
    if (this.#renaming || this.#tabs.length === 0) return;
    const index = Math.max(0, this.#tabs.findIndex((tab) => tab.key === this.#active));
    const last = this.#tabs.length - 1;
    const moves: Record<string, number> = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      const tab = this.#tabs[target];
      if (tab) this.#select(tab.key, { focusTab: true });
    } else if (event.key === 'F2' && this.#active) {
      event.preventDefault();
      this.#startRename(this.#active);
    } else if (event.key === 'Delete' && this.#active) {
      event.preventDefault();
      void this.#close(this.#active);
    } else if ((event.key === 'Enter' || event.key === ' ') && this.#active) {
      event.preventDefault();
      this.terminalFor()?.focus();
    }
  };

  #select(key: string, { focusTab = false, focusTerminal = false } = {}): void {
    const changed = key !== this.#active;
    this.#active = key;
    this.#revealActive = true;
    this.#save();
    this.requestUpdate();
    const tab = this.#entry(key);
    // A new tab is announced once it has its session (see #adopt): the event always names one.
    if (changed && tab?.sessionId) emit(this, 'tab-change', { sessionId: tab.sessionId, index: this.#tabs.indexOf(tab) });
    void this.updateComplete.then(() => {
      const tabElement = this.renderRoot.querySelector<HTMLElement>(`[role="tab"][data-key="${CSS.escape(key)}"]`);
      if (focusTerminal) this.renderRoot.querySelector<SandboxTerminal>(`sandbox-terminal[data-key="${CSS.escape(key)}"]`)?.focus();
      else if (focusTab) tabElement?.focus();
    });
  }

  /** Closes a tab: asks first when its program is running (unless `force`); a tab without a session just goes. */
  async #close(key: string, { force = false } = {}): Promise<boolean> {
    const tab = this.#entry(key);
    if (!tab) return false;
    const terminal = this.renderRoot.querySelector<SandboxTerminal>(`sandbox-terminal[data-key="${CSS.escape(key)}"]`);
    if (!force && terminal?.commandRunning) {
      this.#confirmClose = key;
      this.requestUpdate();
      // The question takes the keyboard, on its safe answer: a second Delete must not be a yes.
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>('.confirm-cancel')?.focus());
      return false;
    }
    this.#confirmClose = undefined;
    if (tab.sessionId) {
      try {
        await this.#client().deleteSession(tab.sessionId);
      } catch (error) {
        if (!(error instanceof SandboxError && error.code === 'SESSION_NOT_FOUND')) {
          this.#say(`could not end session ${shortId(tab.sessionId)}: ${describeFailure(error)}`);
          return false;
        }
      }
    }
    this.#removeTab(key);
    if (tab.sessionId) emit(this, 'session-closed', { sessionId: tab.sessionId });
    return true;
  }

  #removeTab(key: string): void {
    const index = this.#tabs.findIndex((tab) => tab.key === key);
    if (index < 0) return;
    const focusWasHere = this.matches(':focus-within');
    this.#tabs = this.#tabs.filter((tab) => tab.key !== key);
    this.#rejectWaiting(key, new Error('session-tabs: the tab was closed before its session was created'));
    if (this.#active === key) {
      const next = this.#tabs[Math.min(index, this.#tabs.length - 1)];
      this.#active = undefined;
      if (next) this.#select(next.key, { focusTab: focusWasHere });
    }
    this.#save();
    this.requestUpdate();
  }

  #startRename(key: string): void {
    this.#renaming = key;
    this.requestUpdate();
  }

  #rename(key: string, name: string): void {
    const trimmed = name.trim();
    this.#tabs = this.#tabs.map((tab) => {
      if (tab.key !== key) return tab;
      const { name: _old, ...rest } = tab;
      return trimmed ? { ...rest, name: trimmed } : rest;
    });
    this.#save();
    this.requestUpdate();
  }

  #handleRenameKey(event: KeyboardEvent, key: string): void {
    event.stopPropagation();
    if (event.key === 'Enter') this.#finishRename(key, (event.target as HTMLInputElement).value);
    if (event.key === 'Escape') this.#finishRename(key, undefined);
  }

  #finishRename(key: string, name: string | undefined): void {
    if (this.#renaming !== key) return;
    this.#renaming = undefined;
    if (name !== undefined) this.#rename(key, name);
    this.requestUpdate();
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`[role="tab"][data-key="${CSS.escape(key)}"]`)?.focus());
  }

  #cancelClose(): void {
    const key = this.#confirmClose;
    this.#confirmClose = undefined;
    this.requestUpdate();
    if (key) void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`[role="tab"][data-key="${CSS.escape(key)}"]`)?.focus());
  }

  #entry(key: string | undefined): TabEntry | undefined {
    return key === undefined ? undefined : this.#tabs.find((tab) => tab.key === key);
  }

  #patch(key: string, patch: Partial<SessionTab>): void {
    // A closed tab's terminal still reports its teardown; that tab is gone already.
    if (!this.#entry(key)) return;
    if (key === this.#active && ('cwd' in patch || 'command' in patch || 'title' in patch || 'name' in patch)) this.#revealActive = true;
    this.#tabs = this.#tabs.map((tab) => (tab.key === key ? { ...tab, ...patch } : tab));
    this.requestUpdate();
  }

  #say(notice: string): void {
    this.#notice = notice;
    this.requestUpdate();
  }

  #save(): void {
    const withSession = this.#tabs.filter((tab) => tab.sessionId);
    const active = this.#entry(this.#active)?.sessionId;
    const saved: SavedTabs = {
      tabs: withSession.map(({ sessionId, name }) => (name ? { sessionId, name } : { sessionId })),
      ...(active ? { active } : {}),
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

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

/** The error `addTab()` rejects with, from what the tab's terminal reported. */
function errorFor(error: ConnectionError): Error {
  if (error.code === 'NETWORK') return new Error(describeError(error));
  const payload = { code: error.code as SandboxError['code'], message: error.message, ...(error.details ? { details: error.details } : {}) };
  return new SandboxError(payload, error.httpStatus);
}

function describeFailure(error: unknown): string {
  if (error instanceof SandboxError) return describeError({ code: error.code, message: error.message, ...(error.status ? { httpStatus: error.status } : {}) });
  return error instanceof Error ? error.message : String(error);
}
