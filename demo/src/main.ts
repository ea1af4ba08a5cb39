import type { SandboxTerminal, SessionTabs, TerminalTheme } from '@sandbox-terminal/elements';
import { renderAgentPanel } from './agent-panel.ts';
import { renderDocsPageSection } from './docs-page-section.ts';
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

const single = document.querySelector<SandboxTerminal>('#single-terminal')!;
const tabs = document.querySelector<SessionTabs>('#session-tabs')!;
const themeSelect = document.querySelector<HTMLSelectElement>('#theme-select')!;

// Set before the elements are defined, so they connect once, to the right relay.
for (const element of [single, tabs]) element.setAttribute('relay', relayUrl);
const savedTheme = (localStorage.getItem('demo-theme') as TerminalTheme | null) ?? 'dark';
applyTheme(savedTheme);
themeSelect.value = savedTheme;
themeSelect.addEventListener('change', () => {
  applyTheme(themeSelect.value as TerminalTheme);
  localStorage.setItem('demo-theme', themeSelect.value);
});

await import('@sandbox-terminal/elements');

renderSnippet(document.querySelector('[data-snippet="single"]')!, singleSnippet());
renderSnippet(document.querySelector('[data-snippet="tabs"]')!, tabsSnippet());
renderAgentPanel(document.querySelector('#agent-panel')!, { relayUrl, sandboxId: SANDBOX_ID, tabs, single });
renderIdleControl(document.querySelector('#idle-control')!, { relayUrl, sandboxId: SANDBOX_ID });
renderElementDocs(document.querySelector('#element-docs')!);
renderDocsPageSection(document.querySelector('#docs-page-tutorial')!, { relayUrl });
renderFrameworkExamples(document.querySelector('#framework-examples')!);
void checkRelay();

function applyTheme(theme: TerminalTheme): void {
  single.theme = theme;
  tabs.theme = theme;
  document.documentElement.dataset.theme = theme;
}

async function checkRelay(): Promise<void> {
  const pill = document.querySelector<HTMLElement>('#relay-health')!;
  try {
    const response = await fetch(new URL('/healthz', relayUrl), { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    pill.textContent = response.ok ? 'relay: up' : `relay: HTTP ${response.status}`;
    pill.dataset.state = response.ok ? 'ok' : 'error';
  } catch (error) {
    pill.textContent = `relay: unreachable (${error instanceof Error ? error.message : String(error)})`;
    pill.dataset.state = 'error';
  }
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
