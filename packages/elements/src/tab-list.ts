import type { ConnectionState } from './connection-status.ts';
import { savedTabsOf, type SavedTabs } from './saved-tabs.ts';

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
export interface TabEntry extends SessionTab {
  key: string;
}

/** The tabs of `<session-tabs>` in order and which one is active: state only, no DOM, no relay. */
export class TabList {
  #tabs: TabEntry[] = [];
  #active: string | undefined;
  #newTabs = 0;

  get entries(): readonly TabEntry[] {
    return this.#tabs;
  }

  /** The active tab's key. */
  get active(): string | undefined {
    return this.#active;
  }

  entry(key: string | undefined): TabEntry | undefined {
    return key === undefined ? undefined : this.#tabs.find((tab) => tab.key === key);
  }

  bySession(sessionId: string): TabEntry | undefined {
    return sessionId ? this.#tabs.find((tab) => tab.sessionId === sessionId) : undefined;
  }

  indexOf(key: string): number {
    return this.#tabs.findIndex((tab) => tab.key === key);
  }

  /** Replaces the tabs with remembered ones (keyed by their session ids) and picks the active one. */
  load(saved: SavedTabs | undefined): void {
    this.#tabs = (saved?.tabs ?? []).map(({ sessionId, name }) => ({ key: sessionId, sessionId, title: '', state: 'connecting', ...(name ? { name } : {}) }));
    this.#active = this.#tabs.find((tab) => tab.sessionId === saved?.active)?.key ?? this.#tabs[0]?.key;
  }

  /** Appends a tab whose session does not exist yet; returns its key. */
  addNew(): string {
    const key = `new-${++this.#newTabs}`;
    this.#tabs = [...this.#tabs, { key, sessionId: '', title: '', state: 'connecting' }];
    return key;
  }

  /** Makes `key` active; true when that changed which tab is. */
  activate(key: string | undefined): boolean {
    const changed = key !== this.#active;
    this.#active = key;
    return changed;
  }

  /** False when the tab is gone (a closed tab's terminal still reports its teardown). */
  patch(key: string, patch: Partial<SessionTab>): boolean {
    if (!this.entry(key)) return false;
    this.#tabs = this.#tabs.map((tab) => (tab.key === key ? { ...tab, ...patch } : tab));
    return true;
  }

  /** Names a tab; an empty name goes back to its label. */
  rename(key: string, name: string): void {
    const trimmed = name.trim();
    this.#tabs = this.#tabs.map((tab) => {
      if (tab.key !== key) return tab;
      const { name: _old, ...rest } = tab;
      return trimmed ? { ...rest, name: trimmed } : rest;
    });
  }

  /** Removes a tab; when it was the active one, returns the key of the tab that should be active now. */
  remove(key: string): { wasActive: boolean; next: string | undefined } {
    const index = this.indexOf(key);
    if (index < 0) return { wasActive: false, next: undefined };
    this.#tabs = this.#tabs.filter((tab) => tab.key !== key);
    const wasActive = this.#active === key;
    if (wasActive) this.#active = undefined;
    return { wasActive, next: wasActive ? this.#tabs[Math.min(index, this.#tabs.length - 1)]?.key : undefined };
  }

  saved(): SavedTabs {
    return savedTabsOf(this.#tabs, this.entry(this.#active)?.sessionId);
  }
}
