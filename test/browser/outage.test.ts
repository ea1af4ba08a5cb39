/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import type { SandboxTerminal } from '@sandbox-terminal/elements';
import { UNREACHABLE_AFTER_ATTEMPTS } from '@sandbox-terminal/elements/classes';
import { cleanUpFixtures, extraRelay, mountTerminal, statusBarText, typeLine, uniqueSandboxId, waitFor, waitForLine, waitForPrompt, waitForState } from './helpers.ts';

/** Quick retries, so that "several attempts in a row failed" is reached in well under a second. */
const FAST_RECONNECT = { firstDelayMs: 0, minDelayMs: 50, maxDelayMs: 200, growFactor: 1.5, jitterRatio: 0, connectTimeoutMs: 2_000 };

/** Every sentence the status bar showed, as it showed it. */
function recordStatusBar(element: SandboxTerminal): { texts: string[]; stop: () => void } {
  const texts: string[] = [];
  const observer = new MutationObserver(() => {
    const text = statusBarText(element);
    if (text !== texts.at(-1)) texts.push(text);
  });
  observer.observe(element.shadowRoot!, { subtree: true, childList: true, characterData: true });
  return { texts, stop: () => observer.disconnect() };
}

describe('<sandbox-terminal> when the relay goes away', () => {
  afterEach(cleanUpFixtures);

  it('says the relay cannot be reached after a few attempts, keeps trying, says typed input was not sent, and says when it is back', async () => {
    const name = 'outage-down';
    const relay = await extraRelay.start(name);
    const { element, states } = await mountTerminal({ sandbox: uniqueSandboxId('down'), relay, reconnect: FAST_RECONNECT });
    await waitForPrompt(element);
    const bar = recordStatusBar(element);
    try {
      await extraRelay.stop(name);
      await waitForState(element, 'unreachable');
      expect(element.status.attempt).to.be.at.least(UNREACHABLE_AFTER_ATTEMPTS);
      expect(statusBarText(element)).to.contain('cannot reach the relay');
      await typeLine(element, 'echo typed-while-down');
      await waitFor(() => element.status.inputDropped, 'the dropped input to be said');
      expect(statusBarText(element)).to.contain('input not sent');
      // Still trying: the attempt count goes on, and what was said about the input stays said until it is back.
      const attempt = element.status.attempt!;
      await waitFor(() => (element.status.attempt ?? 0) > attempt, 'another attempt');
      expect(element.status.inputDropped, 'still says the input was not sent after another attempt').to.equal(true);
      expect(statusBarText(element)).to.contain('input not sent');

      await extraRelay.restart(name);
      await waitForState(element, 'connected');
      expect(statusBarText(element)).not.to.contain('cannot reach');
      expect(element.status.inputDropped ?? false, 'connected again: nothing is being dropped').to.equal(false);
      await waitForPrompt(element);
      await typeLine(element, 'echo back-$((6*7))');
      await waitForLine(element, 'back-42');
    } finally {
      bar.stop();
    }
    expect(states.indexOf('unreachable'), 'unreachable came after reconnecting').to.be.greaterThan(states.indexOf('reconnecting'));
    expect(bar.texts.some((text) => text.includes('cannot reach the relay: still trying'))).to.equal(true);
  });

  // Needs the relay to say why it recreated a session (`reason: 'relay-restarted'`); until it does, it says 'slept'.
  it('after a relay restart, the session is restored and the user is told the relay restarted, not that the sandbox slept', async () => {
    const name = 'outage-restart';
    const relay = await extraRelay.start(name);
    const { element } = await mountTerminal({ sandbox: uniqueSandboxId('restart'), relay, reconnect: FAST_RECONNECT });
    await waitForPrompt(element);
    await typeLine(element, 'mkdir -p /workspace/kept && cd /workspace/kept');
    await waitFor(() => element.cwd === '/workspace/kept', 'cwd /workspace/kept');
    const reasons: string[] = [];
    element.addEventListener('session-recreated', (event) => reasons.push(event.detail.reason));

    await extraRelay.stop(name);
    await extraRelay.restart(name);
    await waitFor(() => element.status.state === 'connected' && element.status.restoredCwd, 'the session to be restored', {
      describeState: () => JSON.stringify(element.status),
    });
    expect(element.status.restoredCwd).to.equal('/workspace/kept');
    expect(reasons).to.deep.equal(['relay-restarted']);
    expect(statusBarText(element)).to.contain('the relay restarted');
    expect(statusBarText(element)).not.to.contain('asleep');
  });
});
