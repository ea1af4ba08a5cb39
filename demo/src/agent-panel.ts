import { html, nothing, render } from 'lit';
import { getSandbox, SandboxError, type ExecResult, type SessionInfo } from '@sandbox-terminal/client';
import { describeError, type SandboxTerminal, type SessionTabs } from '@sandbox-terminal/elements/classes';

/** An agent's command gets this long before the relay kills it; the session survives. */
const AGENT_COMMAND_TIMEOUT_MS = 60_000;
/** Output longer than this is cut in the transcript (the terminal shows all of it). */
const TRANSCRIPT_OUTPUT_CHARS = 4_000;

const NOT_ON_PAGE = 'not open on this page';

const PRESETS = [
  'pwd',
  'mkdir -p /workspace/project && cd /workspace/project',
  'printf "# notes\\nwritten by the agent\\n" > notes.md && ls -l',
  'export STEP=2 && echo "now at step $STEP"',
  'echo "still at step $STEP in $(pwd)"',
];

interface Message {
  command: string;
  session: string;
  result?: ExecResult;
  /** In words; `errorCode` is the relay's code, shown on hover. */
  error?: string;
  errorCode?: string;
}

interface Options {
  relayUrl: string;
  sandboxId: string;
  tabs: SessionTabs;
  single: SandboxTerminal;
}

/**
 * The seed's "chat-based agent" pattern: each message is one `exec` in a long-lived session, so context carries
 * over, and the person watching that session's terminal sees every command run.
 */
export function renderAgentPanel(container: HTMLElement, { relayUrl, sandboxId, tabs, single }: Options): void {
  const sandbox = getSandbox(relayUrl, sandboxId);
  const transcript: Message[] = [];
  let sessions: SessionInfo[] = [];
  let chosen = '';
  let running = false;
  let listError = '';
  /** The sandbox's sessions that this page does not show (older visits, other browser tabs) are listed on request. */
  let showOthers = false;

  const labelOf = (id: string): string => {
    if (id === single.sessionId) return 'the single terminal';
    const tab = tabs.tabs.find((candidate) => candidate.sessionId === id);
    if (tab) return `tab “${tab.name || tab.command || tab.title || tab.cwd?.split('/').filter(Boolean).pop() || 'bash'}”`;
    return NOT_ON_PAGE;
  };

  const onPage = (id: string) => labelOf(id) !== NOT_ON_PAGE;
  /** What the list offers: the sessions this page shows, first, then (on request) the others, marked as such. */
  const offered = () => sessions.filter((session) => showOthers || onPage(session.id));

  async function refreshSessions(): Promise<void> {
    try {
      sessions = (await sandbox.listSessions()).sort((a, b) => Number(onPage(b.id)) - Number(onPage(a.id)));
      listError = '';
    } catch (error) {
      listError =
        error instanceof SandboxError
          ? `could not list the sessions: ${describeError({ code: error.code, message: error.message, ...(error.status ? { httpStatus: error.status } : {}) })}`
          : `could not list the sessions: ${describeError({ code: 'NETWORK', message: String(error) })}`;
    }
    if (!offered().some((session) => session.id === chosen)) chosen = tabs.activeSessionId ?? offered()[0]?.id ?? '';
    draw();
  }

  async function run(command: string): Promise<void> {
    if (!command.trim() || !chosen || running) return;
    const message: Message = { command, session: chosen };
    transcript.push(message);
    running = true;
    draw();
    try {
      message.result = await sandbox.exec(command, { session: chosen, timeout: AGENT_COMMAND_TIMEOUT_MS });
    } catch (error) {
      if (error instanceof SandboxError) {
        message.error = describeError({ code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}), ...(error.status ? { httpStatus: error.status } : {}) });
        message.errorCode = `${error.code}: ${error.message}`;
      } else {
        message.error = describeError({ code: 'NETWORK', message: String(error) });
      }
    }
    running = false;
    draw();
    container.querySelector('.transcript')?.lastElementChild?.scrollIntoView({ block: 'nearest' });
  }

  function submit(event: SubmitEvent): void {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem('command') as HTMLInputElement;
    void run(input.value);
    input.value = '';
  }

  function draw(): void {
    render(
      html`
        <div class="agent">
          <div class="agent-controls">
            <label
              >Session
              <select aria-label="Session the agent runs in" @focus=${() => refreshSessions()} @change=${(event: Event) => ((chosen = (event.target as HTMLSelectElement).value), draw())}>
                ${offered().map(
                  (session) => html`<option value=${session.id} ?selected=${session.id === chosen}>
                    ${labelOf(session.id)} · ${session.cwd} · ${session.status} · ${session.id.slice(0, 8)}
                  </option>`,
                )}
              </select>
            </label>
            <button type="button" @click=${() => refreshSessions()}>Refresh</button>
            <label class="toggle"
              ><input
                type="checkbox"
                .checked=${showOthers}
                @change=${(event: Event) => {
                  showOthers = (event.target as HTMLInputElement).checked;
                  void refreshSessions();
                }}
              />
              also list the sandbox's ${sessions.filter((session) => !onPage(session.id)).length} sessions not open here</label
            >
            ${listError ? html`<span class="error">${listError}</span>` : nothing}
          </div>
          <ol class="transcript" aria-live="polite">
            ${transcript.map((message) => renderMessage(message, labelOf(message.session)))}
          </ol>
          <div class="presets">
            ${PRESETS.map((preset) => html`<button type="button" ?disabled=${running || !chosen} @click=${() => run(preset)}><code>${preset}</code></button>`)}
          </div>
          <form class="agent-input" @submit=${submit}>
            <input name="command" autocomplete="off" placeholder="a command for the agent to run, e.g. ls -la" aria-label="Command" />
            <button type="submit" ?disabled=${running || !chosen}>${running ? 'Running…' : 'Run'}</button>
          </form>
        </div>
      `,
      container,
    );
  }

  for (const type of ['session-created', 'session-closed', 'tab-change'] as const) {
    document.addEventListener(type, () => void refreshSessions());
  }
  // A terminal that reattached to a remembered session announces no new session; its first `connected` does.
  document.addEventListener('status-change', (event) => {
    const { status } = (event as CustomEvent<{ status: { state: string } }>).detail;
    if (status.state === 'connected' && !sessions.some((session) => session.id === (event.target as SandboxTerminal).sessionId)) void refreshSessions();
  });
  draw();
  void refreshSessions();
}

function renderMessage(message: Message, where: string) {
  const result = message.result;
  return html`<li class="message">
    <div class="prompt"><span class="who">agent → ${where}</span><code>$ ${message.command}</code></div>
    ${result
      ? html`${result.stdout ? html`<pre class="stdout">${clip(result.stdout)}</pre>` : nothing}
          ${result.stderr ? html`<pre class="stderr">${clip(result.stderr)}</pre>` : nothing}
          <div class="meta">
            exit ${result.exitCode} · ${result.durationMs} ms${result.timedOut ? ' · timed out' : ''}${result.truncated ? ' · output truncated by the relay' : ''}${result.sessionRecreated
              ? ' · the sandbox had been asleep: session restored'
              : ''}
          </div>`
      : message.error
        ? html`<div class="error" title=${message.errorCode ?? ''}>${message.error}</div>`
        : html`<div class="meta">running…</div>`}
  </li>`;
}

function clip(text: string): string {
  return text.length > TRANSCRIPT_OUTPUT_CHARS ? `${text.slice(0, TRANSCRIPT_OUTPUT_CHARS)}\n… (${text.length - TRANSCRIPT_OUTPUT_CHARS} more characters)` : text;
}
