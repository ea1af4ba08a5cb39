import { PersistedRecord } from './persisted-record.ts';

/** What `<session-tabs persist-key>` remembers: the open tabs' sessions, their names, and the active one. */
export interface SavedTabs {
  tabs: Array<{ sessionId: string; name?: string }>;
  active?: string;
}

function isSavedTabs(value: unknown): value is SavedTabs {
  const tabs = (value as { tabs?: unknown } | null)?.tabs;
  return Array.isArray(tabs) && tabs.every((tab) => typeof (tab as { sessionId?: unknown })?.sessionId === 'string');
}

/** The record kept under a `persist-key` for a relay and sandbox. */
export function savedTabsRecord(persistKey: string, scope: { relay: string; sandbox: string }): PersistedRecord<SavedTabs> {
  return new PersistedRecord('tabs', persistKey, scope, isSavedTabs);
}

/** Tabs as they are remembered: those that have a session (a new tab's is still being created), in order. */
export function savedTabsOf(tabs: ReadonlyArray<{ sessionId: string; name?: string }>, active: string | undefined): SavedTabs {
  return {
    tabs: tabs.filter((tab) => tab.sessionId).map(({ sessionId, name }) => (name ? { sessionId, name } : { sessionId })),
    ...(active ? { active } : {}),
  };
}
