import type { SandboxTerminal, SessionTabs, TerminalTheme } from '@sandbox-terminal/elements';
import { renderAgentPanel } from './agent-panel.ts';
import { renderElementDocs } from './element-docs.ts';
import { renderFrameworkExamples } from './framework-examples.ts';
import { renderIdleControl } from './idle-control.ts';
import { renderSnippet } from './snippet.ts';

/** The page reaches the relay through the dev server's proxy (vite.config.ts): same origin, no CORS. */
const relayUrl = new URLSearchParams(location.search).get('relay') ?? location.origin;
/** Where the relay really listens, for the copy-paste snippets. */
const publicRelayUrl = new URLSearchParams(location.search).get('relay') ?? __RELAY_TARGET__;
const SANDBOX_ID = 'demo';
const HEALTH_TIMEOUT_MS = 3_000;
/** The health pill asks again this often (and at once when a terminal loses or finds the relay). */
const HEALTH_POLL_MS = 10_000;

const single = document.querySelector<SandboxTerminal>('#single-terminal')!;
const tabs = document.querySelector<SessionTabs>('#session-tabs')!;
const themeSelect = document.querySelector<HTMLSelectElement>('#theme-select')!;
const screenReaderToggle = document.querySelector<HTMLInputElement>('#screen-reader-toggle')!;
/** The health check under way, so that polls and terminal events never run two at once. */
let checking: Promise<void> | undefined;

// Set before the elements are defined, so they connect once, to the right relay.
for (const element of [single, tabs]) element.setAttribute('relay', relayUrl);
const savedTheme = (localStorage.getItem('demo-theme') as TerminalTheme | null) ?? 'dark';
applyTheme(savedTheme);
themeSelect.value = savedTheme;
themeSelect.addEventListener('change', () => {
  applyTheme(themeSelect.value as TerminalTheme);
  localStorage.setItem('demo-theme', themeSelect.value);
});
const screenReader = localStorage.getItem('demo-screen-reader') === 'on';
applyScreenReader(screenReader);
screenReaderToggle.checked = screenReader;
screenReaderToggle.addEventListener('change', () => {
  applyScreenReader(screenReaderToggle.checked);
  localStorage.setItem('demo-screen-reader', screenReaderToggle.checked ? 'on' : 'off');
});

await import('@sandbox-terminal/elements');

renderSnippet(document.querySelector('[data-snippet="single"]')!, singleSnippet());
renderSnippet(document.querySelector('[data-snippet="tabs"]')!, tabsSnippet());
renderAgentPanel(document.querySelector('#agent-panel')!, { relayUrl, sandboxId: SANDBOX_ID, tabs, single });
const idleControl = renderIdleControl(document.querySelector('#idle-control')!, { relayUrl, sandboxId: SANDBOX_ID });
renderElementDocs(document.querySelector('#element-docs')!);
// After the elements are defined (above): the docs package registers the tags too, and the page sets their relay first.
const { renderDocsPageSection } = await import('./docs-page-section.ts');
renderDocsPageSection(document.querySelector('#docs-page-tutorial')!, { relayUrl });
renderFrameworkExamples(document.querySelector('#framework-examples')!);
void checkRelay();
setInterval(() => void checkRelay(), HEALTH_POLL_MS);
// A terminal notices an outage (or its end) first: the pill follows at once instead of at its next poll.
document.addEventListener('status-change', (event) => {
  const { state } = (event as CustomEvent<{ status: { state: string } }>).detail.status;
  if (state === 'unreachable' || (state === 'connected' && document.querySelector('#relay-health')?.getAttribute('data-state') !== 'ok')) {
    void checkRelay();
  }
});

function applyTheme(theme: TerminalTheme): void {
  single.theme = theme;
  tabs.theme = theme;
  document.documentElement.dataset.theme = theme;
}

function applyScreenReader(on: boolean): void {
  single.screenReader = on;
  tabs.screenReader = on;
}

function checkRelay(): Promise<void> {
  checking ??= askRelay().finally(() => (checking = undefined));
  return checking;
}

async function askRelay(): Promise<void> {
  const pill = document.querySelector<HTMLElement>('#relay-health')!;
  let text: string;
  let ok = false;
  try {
    const response = await fetch(new URL('/healthz', relayUrl), { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS), cache: 'no-store' });
    ok = response.ok;
    if (ok) {
      const health = (await response.json()) as { idleTimeoutMs?: number; isolated?: boolean };
      if (typeof health.idleTimeoutMs === 'number') idleControl.showRelayTimeout(health.idleTimeoutMs);
      text = health.isolated === false ? 'relay: up (not isolated)' : 'relay: up';
    } else {
      // The dev server's proxy answers 502/504 itself while the relay is down.
      text = response.status >= 502 && response.status <= 504 ? 'relay: not answering' : `relay: error (HTTP ${response.status})`;
    }
  } catch {
    text = 'relay: unreachable';
  }
  if (pill.textContent !== text) pill.textContent = text;
  pill.dataset.state = ok ? 'ok' : 'error';
  pill.title = `checked at ${new Date().toLocaleTimeString()}; checked again every ${HEALTH_POLL_MS / 1000} s`;
}

function singleSnippet(): string {
  return `<!-- npm install @sandbox-terminal/elements; in your app's entry module: import '@sandbox-terminal/elements'; -->
<sandbox-terminal
  relay="${publicRelayUrl}"
  sandbox="user-123"
  persist-key="my-terminal"
  theme="auto"
  style="height: 360px"
></sandbox-terminal>`;
}

function tabsSnippet(): string {
  return `<session-tabs
  relay="${publicRelayUrl}"
  sandbox="user-123"
  persist-key="my-tabs"
  style="height: 420px"
>
  <span slot="toolbar">my project</span>
</session-tabs>`;
}
