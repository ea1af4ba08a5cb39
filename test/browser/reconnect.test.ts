/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import type { SandboxTerminal, SessionCreatedDetail } from '@sandbox-terminal/elements';
import {
  cleanUpFixtures,
  fixture,
  mountTerminal,
  relayCommands,
  relayUrl,
  sandboxClient,
  statusBarText,
  typeLine,
  uniqueSandboxId,
  waitFor,
  waitForLine,
  waitForPrompt,
  waitForState,
} from './helpers.ts';

/**
 * A negative claim ("it does not reconnect") can only be watched for a while. This is longer than the first
 * reconnection delay (500 ms) plus its jitter (up to 50 %), so a reconnecting socket would have shown up.
 */
const LONGER_THAN_FIRST_RECONNECT_MS = 2_000;

function setPageVisibility(state: 'hidden' | 'visible'): void {
  if (state === 'hidden') Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  else delete (document as { visibilityState?: unknown }).visibilityState;
  document.dispatchEvent(new Event('visibilitychange'));
}

describe('<sandbox-terminal> connection', () => {
  afterEach(() => {
    setPageVisibility('visible');
    cleanUpFixtures();
  });

  it('reconnects after the relay closes the socket, and the shell keeps its state', async () => {
    const sandboxId = uniqueSandboxId('drop');
    const { element, states } = await mountTerminal({ sandbox: sandboxId });
    await waitForState(element, 'connected');
    await waitForPrompt(element);
    const sessionId = element.sessionId;
    await typeLine(element, 'mkdir -p /workspace/keep && cd /workspace/keep && export KEEP_ME=still-here && echo do""ne');
    await waitForLine(element, 'done');

    states.length = 0;
    await relayCommands.dropConnections(sandboxId);
    await waitFor(() => states.includes('reconnecting'), 'status "reconnecting"', { describeState: () => states.join(' → ') });
    await waitForState(element, 'connected');
    expect(element.sessionId).to.equal(sessionId);
    await typeLine(element, 'echo $KEEP_ME:$(pwd)');
    await waitForLine(element, 'still-here:/workspace/keep');
  });

  it('after idle sleep, a keystroke wakes the session: the restored notice shows and pwd prints the old cwd', async () => {
    const sandboxId = uniqueSandboxId('sleep');
    const { element } = await mountTerminal({ sandbox: sandboxId });
    await waitForState(element, 'connected');
    await waitForPrompt(element);
    await typeLine(element, 'mkdir -p /workspace/proj && cd /workspace/proj');
    await waitFor(() => element.cwd === '/workspace/proj', 'cwd /workspace/proj');
    const recreated: string[] = [];
    element.addEventListener('session-recreated', (event) => recreated.push(event.detail.cwd));

    await relayCommands.sleepSandbox(sandboxId);
    await waitForState(element, 'asleep');
    expect(statusBarText(element)).to.contain('asleep');

    await typeLine(element, '');
    await waitFor(() => element.status.state === 'connected' && element.status.restoredCwd, 'the session to be restored', {
      describeState: () => JSON.stringify(element.status),
    });
    expect(element.status.restoredCwd).to.equal('/workspace/proj');
    expect(statusBarText(element)).to.contain('sandbox was asleep: session restored in /workspace/proj');
    expect(recreated).to.deep.equal(['/workspace/proj']);
    await waitForPrompt(element);
    await typeLine(element, 'pwd');
    await waitForLine(element, '/workspace/proj');
  });

  it('does not reconnect to a sleeping sandbox while the page is hidden, and does once it is visible', async () => {
    const sandboxId = uniqueSandboxId('hidden');
    const { element } = await mountTerminal({ sandbox: sandboxId });
    await waitForState(element, 'connected');
    const sessionId = element.sessionId!;
    const sandbox = await sandboxClient(sandboxId);
    await relayCommands.sleepSandbox(sandboxId);
    await waitForState(element, 'asleep');

    setPageVisibility('hidden');
    let sockets = 0;
    const RealWebSocket = window.WebSocket;
    window.WebSocket = class extends RealWebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets++;
      }
    };
    try {
      await relayCommands.dropConnections(sandboxId);
      await waitForState(element, 'paused');
      const pausedAt = performance.now();
      await waitFor(() => performance.now() - pausedAt > LONGER_THAN_FIRST_RECONNECT_MS, 'the observation window');
      expect(sockets, 'sockets opened while hidden and asleep').to.equal(0);
      expect(element.status.state).to.equal('paused');
      expect((await sandbox.getSession(sessionId)).status).to.equal('sleeping');

      setPageVisibility('visible');
      await waitForState(element, 'connected');
      expect(sockets).to.equal(1);
    } finally {
      window.WebSocket = RealWebSocket;
    }
  });

  it('typing while held back reconnects at once, and says the keystroke itself was not sent', async () => {
    const sandboxId = uniqueSandboxId('hidden-typing');
    const { element } = await mountTerminal({ sandbox: sandboxId });
    await waitForState(element, 'connected');
    await relayCommands.sleepSandbox(sandboxId);
    await waitForState(element, 'asleep');
    setPageVisibility('hidden');
    await relayCommands.dropConnections(sandboxId);
    await waitForState(element, 'paused');

    // The reconnection starts on the keystroke and may be back (after 0–150 ms of jitter) before sendKeys returns: what
    // the user was told is recorded as it is shown, not read afterwards.
    const statuses: Array<{ inputDropped?: boolean }> = [];
    element.addEventListener('status-change', (event) => statuses.push(event.detail.status));
    const barTexts: string[] = [];
    const observer = new MutationObserver(() => barTexts.push(statusBarText(element)));
    observer.observe(element.shadowRoot!, { subtree: true, childList: true, characterData: true });
    try {
      await typeLine(element, '');
      await waitForState(element, 'connected');
    } finally {
      observer.disconnect();
    }
    expect(statuses.find((status) => status.inputDropped)?.inputDropped).to.equal(true);
    expect(barTexts.find((text) => text.includes('input not sent'))).to.contain('input not sent');
  });

  it('with persist-key, a page reload reattaches to the same shell', async () => {
    const sandboxId = uniqueSandboxId('reload');
    const persistKey = `reload-${Math.random().toString(36).slice(2)}`;
    const frame = document.createElement('iframe');
    frame.style.cssText = 'width: 640px; height: 320px; border: 0;';
    const query = new URLSearchParams({ relay: await relayUrl(), sandbox: sandboxId, key: persistKey });
    frame.src = `/test/browser/fixtures/persist-key.html?${query}`;
    fixture().append(frame);
    const terminalIn = () => frame.contentDocument?.querySelector('sandbox-terminal') as SandboxTerminal | null | undefined;

    const frameState = () =>
      `frame ${frame.contentDocument?.readyState ?? 'no document'}; terminal ${terminalIn() ? JSON.stringify(terminalIn()!.status) : 'not there'}`;
    const first = await waitFor(() => (terminalIn()?.status.state === 'connected' ? terminalIn() : undefined), 'the terminal in the frame', {
      describeState: frameState,
    });
    const sessionId = first.sessionId;
    await first.exec('export RELOAD_MARK=kept-across-reload');

    frame.contentWindow!.location.reload();
    const second = await waitFor(
      () => (terminalIn() && terminalIn() !== first && terminalIn()!.status.state === 'connected' ? terminalIn() : undefined),
      'the terminal after the reload',
      { describeState: frameState },
    );
    expect(second.sessionId).to.equal(sessionId);
    expect(second.status.mode).to.equal('attached');
    const result = await second.exec('echo $RELOAD_MARK');
    expect(result.stdout.trim()).to.equal('kept-across-reload');
    localStorage.clear();
  });

  it('when the remembered session no longer exists, starts a new one and says so', async () => {
    const sandboxId = uniqueSandboxId('gone');
    const persistKey = `gone-${Math.random().toString(36).slice(2)}`;
    const first = await mountTerminal({ sandbox: sandboxId, persistKey });
    await waitForState(first.element, 'connected');
    const lostId = first.element.sessionId!;
    first.element.remove();
    await (await sandboxClient(sandboxId)).deleteSession(lostId);

    const created: SessionCreatedDetail[] = [];
    document.addEventListener('session-created', (event) => created.push((event as CustomEvent<SessionCreatedDetail>).detail), { once: true });
    const { element } = await mountTerminal({ sandbox: sandboxId, persistKey });
    await waitFor(() => created.length === 1 && element.status.state === 'connected', 'a new session', {
      describeState: () => JSON.stringify(element.status),
    });
    expect(created[0]!.replaces).to.equal(lostId);
    expect(element.sessionId).to.not.equal(lostId);
    expect(statusBarText(element)).to.contain('no longer exists');
    localStorage.clear();
  });

  it('after an error, shows it and does not reconnect by itself', async () => {
    const sandboxId = uniqueSandboxId('missing');
    const { element, states } = await mountTerminal({ sandbox: sandboxId, session: 'never-created' });
    await waitForState(element, 'error');
    expect(element.status.error?.code).to.equal('SESSION_NOT_FOUND');
    // In words for the user; the code for developers, in the status and the status bar's tooltip.
    expect(statusBarText(element)).to.contain('this session no longer exists');
    expect(element.shadowRoot!.querySelector('[part="status-message"]')!.getAttribute('title')).to.contain('SESSION_NOT_FOUND');
    expect(element.shadowRoot!.querySelector('[part="reconnect-button"]')).to.exist;
    expect(states.filter((state) => state === 'reconnecting')).to.deep.equal([]);
  });
});
