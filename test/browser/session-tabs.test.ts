/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { sendKeys } from '@web/test-runner-commands';
import { SandboxError } from '@sandbox-terminal/client';
import type { SessionTabs, TabChangeDetail } from '@sandbox-terminal/elements';
import {
  cleanUpFixtures,
  fixture,
  relayUrl,
  sandboxClient,
  typeLine,
  uniqueSandboxId,
  waitFor,
  waitForPrompt,
  waitForState,
  waitForText,
} from './helpers.ts';

async function mountTabs(sandbox: string, persistKey?: string): Promise<SessionTabs> {
  const tabs = document.createElement('session-tabs');
  tabs.relay = await relayUrl();
  tabs.sandbox = sandbox;
  if (persistKey) tabs.persistKey = persistKey;
  tabs.style.height = '100%';
  fixture().append(tabs);
  return tabs;
}

function tabElements(tabs: SessionTabs): HTMLElement[] {
  return [...tabs.shadowRoot!.querySelectorAll<HTMLElement>('[role="tab"]')];
}

function tabFor(tabs: SessionTabs, sessionId: string): HTMLElement {
  const tab = tabElements(tabs).find((element) => element.dataset.sessionId === sessionId);
  if (!tab) throw new Error(`no tab for ${sessionId}`);
  return tab;
}

async function connectedTerminal(tabs: SessionTabs, sessionId: string) {
  const terminal = await waitFor(() => tabs.terminalFor(sessionId), `the terminal of ${sessionId}`);
  await waitForState(terminal, 'connected');
  return terminal;
}

describe('<session-tabs>', () => {
  afterEach(() => {
    cleanUpFixtures();
    localStorage.clear();
  });

  it('creates, switches, renames and closes tabs; hidden tabs keep receiving output', async () => {
    const sandboxId = uniqueSandboxId('tabs');
    const tabs = await mountTabs(sandboxId);
    const changes: TabChangeDetail[] = [];
    const closed: string[] = [];
    tabs.addEventListener('tab-change', (event) => changes.push(event.detail));
    tabs.addEventListener('session-closed', (event) => closed.push(event.detail.sessionId));

    const firstId = await waitFor(() => tabs.activeSessionId, 'the first tab');
    await connectedTerminal(tabs, firstId);

    tabs.shadowRoot!.querySelector<HTMLButtonElement>('[part="add-button"]')!.click();
    // The new tab is there at once; its session id once its terminal has created the session.
    const secondId = await waitFor(() => (tabs.tabs.length === 2 && tabs.activeSessionId !== firstId ? tabs.activeSessionId : undefined), 'a second, active tab');
    await connectedTerminal(tabs, secondId);

    tabFor(tabs, firstId).click();
    await waitFor(() => tabs.activeSessionId === firstId, 'the first tab to be active again');
    expect(changes.map((change) => change.sessionId).slice(-2)).to.deep.equal([secondId, firstId]);
    expect(tabFor(tabs, firstId).getAttribute('aria-selected')).to.equal('true');
    expect(tabFor(tabs, secondId).getAttribute('aria-selected')).to.equal('false');

    // The second tab is hidden now; what runs in its session still reaches its terminal.
    const sandbox = await sandboxClient(sandboxId);
    await sandbox.exec('echo hidden-output-$((6*7))', { session: secondId });
    await waitForText(tabs.terminalFor(secondId)!, 'hidden-output-42');

    tabFor(tabs, secondId).querySelector('[part="tab-label"]')!.dispatchEvent(new MouseEvent('dblclick', { bubbles: true, composed: true }));
    const input = await waitFor(() => tabs.shadowRoot!.querySelector<HTMLInputElement>('[part="rename-input"]'), 'the rename field');
    input.value = 'build';
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, composed: true }));
    await waitFor(() => tabFor(tabs, secondId).querySelector('[part="tab-label"]')?.textContent === 'build', 'the new name');
    expect(tabs.tabs.find((tab) => tab.sessionId === secondId)?.name).to.equal('build');

    tabFor(tabs, secondId).querySelector<HTMLButtonElement>('[part="close-button"]')!.click();
    await waitFor(() => tabs.tabs.length === 1, 'the tab to close');
    expect(closed).to.deep.equal([secondId]);
    const error = await sandbox.getSession(secondId).then(() => undefined, (caught: unknown) => caught);
    expect(error).to.be.instanceOf(SandboxError);
    expect((error as SandboxError).code).to.equal('SESSION_NOT_FOUND');
  });

  it('moves between tabs with the arrow keys, Home and End', async () => {
    const tabs = await mountTabs(uniqueSandboxId('keys'));
    const firstId = await waitFor(() => tabs.activeSessionId, 'the first tab');
    const secondId = await tabs.addTab();
    const thirdId = await tabs.addTab();
    await tabs.updateComplete;
    tabFor(tabs, firstId).click();
    await waitFor(() => tabs.activeSessionId === firstId, 'the first tab to be active');
    tabFor(tabs, firstId).focus();

    await sendKeys({ press: 'ArrowRight' });
    await waitFor(() => tabs.activeSessionId === secondId, 'ArrowRight to select the second tab');
    expect(tabs.shadowRoot!.activeElement).to.equal(tabFor(tabs, secondId));
    await sendKeys({ press: 'End' });
    await waitFor(() => tabs.activeSessionId === thirdId, 'End to select the last tab');
    await sendKeys({ press: 'ArrowRight' });
    await waitFor(() => tabs.activeSessionId === firstId, 'ArrowRight to wrap around');
    await sendKeys({ press: 'ArrowLeft' });
    await waitFor(() => tabs.activeSessionId === thirdId, 'ArrowLeft to wrap back');
    await sendKeys({ press: 'Home' });
    await waitFor(() => tabs.activeSessionId === firstId, 'Home to select the first tab');
    expect(tabElements(tabs).map((tab) => tab.tabIndex)).to.deep.equal([0, -1, -1]);
  });

  it('asks before closing a tab whose program is still running', async () => {
    const sandboxId = uniqueSandboxId('busy');
    const tabs = await mountTabs(sandboxId);
    const sessionId = await waitFor(() => tabs.activeSessionId, 'the first tab');
    const terminal = await connectedTerminal(tabs, sessionId);
    await waitForPrompt(terminal);
    await typeLine(terminal, 'sleep 120');
    await waitFor(() => terminal.commandRunning, 'the command to count as running');

    tabFor(tabs, sessionId).querySelector<HTMLButtonElement>('[part="close-button"]')!.click();
    const confirm = await waitFor(() => tabs.shadowRoot!.querySelector<HTMLElement>('[part="confirm"]'), 'the question');
    expect(confirm.textContent).to.contain('still running');
    confirm.querySelector<HTMLButtonElement>('.confirm-cancel')!.click();
    await waitFor(() => !tabs.shadowRoot!.querySelector('[part="confirm"]'), 'the question to go away');
    expect(tabs.tabs).to.have.length(1);

    tabFor(tabs, sessionId).querySelector<HTMLButtonElement>('[part="close-button"]')!.click();
    const again = await waitFor(() => tabs.shadowRoot!.querySelector<HTMLElement>('[part="confirm"]'), 'the question again');
    again.querySelector<HTMLButtonElement>('.confirm-close')!.click();
    await waitFor(() => !tabs.tabs.some((tab) => tab.sessionId === sessionId), 'the tab to close');
  });

  it('with persist-key, the open tabs, their names and the active one survive a reload', async () => {
    const sandboxId = uniqueSandboxId('tabs-persist');
    const persistKey = `tabs-${Math.random().toString(36).slice(2)}`;
    const before = await mountTabs(sandboxId, persistKey);
    const firstId = await waitFor(() => before.activeSessionId, 'the first tab');
    const secondId = await before.addTab();
    before.renameTab(secondId, 'logs');
    before.selectTab(firstId);
    await connectedTerminal(before, firstId);
    cleanUpFixtures();

    const after = await mountTabs(sandboxId, persistKey);
    await waitFor(() => after.tabs.length === 2, 'two tabs after the reload');
    expect(after.tabs.map((tab) => tab.sessionId)).to.deep.equal([firstId, secondId]);
    expect(after.tabs[1]!.name).to.equal('logs');
    expect(after.activeSessionId).to.equal(firstId);
    const terminal = await connectedTerminal(after, secondId);
    expect(terminal.status.mode).to.equal('attached');
  });

  it('a remembered tab whose session no longer exists is removed, and the user is told', async () => {
    const sandboxId = uniqueSandboxId('tabs-gone');
    const persistKey = `tabs-gone-${Math.random().toString(36).slice(2)}`;
    const before = await mountTabs(sandboxId, persistKey);
    const firstId = await waitFor(() => before.activeSessionId, 'the first tab');
    const goneId = await before.addTab();
    await connectedTerminal(before, goneId);
    cleanUpFixtures();
    await (await sandboxClient(sandboxId)).deleteSession(goneId);

    const after = await mountTabs(sandboxId, persistKey);
    await waitFor(() => after.tabs.length === 1, 'the gone tab to be removed', { describeState: () => JSON.stringify(after.tabs) });
    expect(after.tabs[0]!.sessionId).to.equal(firstId);
    const notice = await waitFor(() => after.shadowRoot!.querySelector('[part="notice"]'), 'a notice');
    expect(notice.textContent).to.contain('no longer exists');
  });

  it('"+" puts the keyboard in the new tab\'s terminal: what is typed at once runs there, and opens no more tabs', async () => {
    const tabs = await mountTabs(uniqueSandboxId('plus-typing'));
    const firstId = await waitFor(() => tabs.activeSessionId, 'the first tab');
    await connectedTerminal(tabs, firstId);
    const add = tabs.shadowRoot!.querySelector<HTMLButtonElement>('[part="add-button"]')!;
    add.focus();
    await sendKeys({ press: 'Enter' });
    // Typed right away, while the new session is still being created: spaces and Enter must not press "+" again.
    await sendKeys({ type: 'echo landed-$((6*7)) in new tab' });
    await sendKeys({ press: 'Enter' });
    const secondId = await waitFor(() => (tabs.tabs.length === 2 && tabs.activeSessionId !== firstId ? tabs.activeSessionId : undefined), 'a second, active tab');
    const terminal = await connectedTerminal(tabs, secondId);
    await waitForText(terminal, 'landed-42 in new tab');
    expect(tabs.tabs).to.have.length(2);
    expect(tabs.shadowRoot!.activeElement).to.equal(terminal);
  });

  it('Delete on a focused tab asks first when its program is still running, and Cancel keeps it', async () => {
    const tabs = await mountTabs(uniqueSandboxId('delete-busy'));
    const sessionId = await waitFor(() => tabs.activeSessionId, 'the first tab');
    const terminal = await connectedTerminal(tabs, sessionId);
    await waitForPrompt(terminal);
    await typeLine(terminal, 'sleep 120');
    await waitFor(() => terminal.commandRunning, 'the command to count as running');
    tabFor(tabs, sessionId).focus();
    await sendKeys({ press: 'Delete' });
    const confirm = await waitFor(() => tabs.shadowRoot!.querySelector<HTMLElement>('[part="confirm"]'), 'the question');
    expect(confirm.textContent).to.contain('still running');
    // The question has the keyboard, on "Cancel": a second Delete or an Enter is not a yes.
    await waitFor(() => tabs.shadowRoot!.activeElement?.classList.contains('confirm-cancel'), 'focus on Cancel');
    await sendKeys({ press: 'Delete' });
    await sendKeys({ press: 'Enter' });
    await waitFor(() => !tabs.shadowRoot!.querySelector('[part="confirm"]'), 'the question to go away');
    expect(tabs.tabs.map((tab) => tab.sessionId)).to.deep.equal([sessionId]);
    expect((await (await sandboxClient(tabs.sandbox)).getSession(sessionId)).status).to.equal('active');
  });

  it('a tab is named for what runs in it or where it is, and its accessible name leaves out the close button', async () => {
    const tabs = await mountTabs(uniqueSandboxId('labels'));
    const sessionId = await waitFor(() => tabs.activeSessionId, 'the first tab');
    const terminal = await connectedTerminal(tabs, sessionId);
    await waitForPrompt(terminal);
    const label = () => tabFor(tabs, sessionId).querySelector('[part="tab-label"]')?.textContent?.trim();
    await typeLine(terminal, 'mkdir -p /workspace/label-app && cd /workspace/label-app');
    await waitFor(() => label() === 'label-app', 'the label to be the directory', { describeState: () => String(label()) });
    await typeLine(terminal, 'sleep 30');
    await waitFor(() => label() === 'sleep 30', 'the label to be the running command', { describeState: () => String(label()) });
    const tab = tabFor(tabs, sessionId);
    const names = (tab.getAttribute('aria-labelledby') ?? '').split(' ').map((id) => tabs.shadowRoot!.getElementById(id)?.textContent?.trim());
    expect(names.join(' ')).to.equal('sleep 30 /workspace/label-app');
    expect(names.join(' ')).not.to.contain('Close');
    await sendKeys({ press: 'Control+C' });
    await waitFor(() => label() === 'label-app', 'the directory again after the command', { describeState: () => String(label()) });
  });
});
