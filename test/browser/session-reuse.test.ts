/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { getSandbox, SandboxError } from '@sandbox-terminal/client';
import type { SessionTabs } from '@sandbox-terminal/elements';
import { cleanUpFixtures, extraRelay, fixture, mountTerminal, relayCommands, sandboxClient, statusBarText, uniqueSandboxId, waitFor, waitForState } from './helpers.ts';

/** A relay whose sandboxes may hold only this many sessions, so that "full" is quick to reach. */
const SESSIONS_PER_SANDBOX = 2;
const FULL_RELAY = 'sessions-full';

async function fullSandbox(name: string): Promise<{ relay: string; sandboxId: string; existing: string[] }> {
  const relay = await extraRelay.start(FULL_RELAY, { sessionsPerSandbox: SESSIONS_PER_SANDBOX });
  const sandboxId = uniqueSandboxId(name);
  const sandbox = getSandbox(relay, sandboxId);
  const existing = [await sandbox.createSession(), await sandbox.createSession()];
  return { relay, sandboxId, existing };
}

describe('sessions are reused, not piled up', () => {
  afterEach(() => {
    cleanUpFixtures();
    localStorage.clear();
  });

  it('two terminals with the same persist-key on a first visit share one session', async () => {
    const sandboxId = uniqueSandboxId('shared-key');
    const persistKey = `shared-${Math.random().toString(36).slice(2)}`;
    const [first, second] = await Promise.all([mountTerminal({ sandbox: sandboxId, persistKey }), mountTerminal({ sandbox: sandboxId, persistKey })]);
    await waitForState(first.element, 'connected');
    await waitForState(second.element, 'connected');
    expect(second.element.sessionId).to.equal(first.element.sessionId);
    const sessions = await (await sandboxClient(sandboxId)).listSessions();
    expect(sessions.map((session) => session.id)).to.deep.equal([first.element.sessionId]);
  });

  it('when the sandbox is full, the terminal says so and offers an existing session, which it then opens', async () => {
    const { relay, sandboxId, existing } = await fullSandbox('full-reuse');
    const { element } = await mountTerminal({ sandbox: sandboxId, relay });
    await waitForState(element, 'error');
    expect(element.status.error?.code).to.equal('LIMIT_EXCEEDED');
    expect(statusBarText(element)).to.contain(`already has ${SESSIONS_PER_SANDBOX} sessions`);
    const reuse = await waitFor(() => element.shadowRoot!.querySelector<HTMLButtonElement>('[part="reuse-button"]'), 'the offer to open an existing session');
    reuse.click();
    await waitForState(element, 'connected');
    expect(existing).to.include(element.sessionId);
    expect(await getSandbox(relay, sandboxId).listSessions()).to.have.length(SESSIONS_PER_SANDBOX);
  });

  it('when the sandbox is full of sleeping sessions, "close idle sessions" makes room and starts a new one', async () => {
    const { relay, sandboxId, existing } = await fullSandbox('full-close');
    await relayCommands.sleepSandbox(sandboxId, FULL_RELAY);
    const { element } = await mountTerminal({ sandbox: sandboxId, relay });
    await waitForState(element, 'error');
    const close = await waitFor(() => element.shadowRoot!.querySelector<HTMLButtonElement>('[part="close-idle-button"]'), 'the offer to close idle sessions');
    expect(close.textContent).to.contain(`Close ${SESSIONS_PER_SANDBOX} idle sessions`);
    close.click();
    await waitForState(element, 'connected');
    expect(existing).not.to.include(element.sessionId);
    const sandbox = getSandbox(relay, sandboxId);
    expect((await sandbox.listSessions()).map((session) => session.id)).to.deep.equal([element.sessionId]);
    const gone = await sandbox.getSession(existing[0]!).then(() => undefined, (error: unknown) => error);
    expect((gone as SandboxError).code).to.equal('SESSION_NOT_FOUND');
  });

  it('a new tab on a full sandbox offers the same way out, and the tab takes the session it opens', async () => {
    const { relay, sandboxId, existing } = await fullSandbox('full-tabs');
    const tabs = document.createElement('session-tabs') as SessionTabs;
    tabs.relay = relay;
    tabs.sandbox = sandboxId;
    tabs.style.height = '100%';
    fixture().append(tabs);
    const terminal = await waitFor(() => tabs.terminalFor(), 'the first tab\'s terminal');
    await waitForState(terminal, 'error');
    const reuse = await waitFor(() => terminal.shadowRoot!.querySelector<HTMLButtonElement>('[part="reuse-button"]'), 'the offer in the tab');
    reuse.click();
    await waitForState(terminal, 'connected');
    await waitFor(() => tabs.activeSessionId, 'the tab to take the session it opened');
    expect(existing).to.include(tabs.activeSessionId);
  });
});
