/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import {
  cleanUpFixtures,
  fixture,
  mountTerminal,
  sandboxClient,
  screenText,
  statusBarText,
  typeLine,
  uniqueSandboxId,
  waitFor,
  waitForLine,
  waitForPrompt,
  waitForState,
  waitForText,
} from './helpers.ts';

describe('<sandbox-terminal>', () => {
  afterEach(cleanUpFixtures);

  it('typing echo hi and Enter shows hi', async () => {
    const { element } = await mountTerminal({ sandbox: uniqueSandboxId('echo') });
    await waitForState(element, 'connected');
    await waitForPrompt(element);
    await typeLine(element, 'echo hi');
    await waitForLine(element, 'hi');
    expect(element.sessionId).to.be.a('string');
  });

  it('a resize of the element reaches the shell: stty size follows', async () => {
    const box = fixture();
    const { element } = await mountTerminal({ sandbox: uniqueSandboxId('resize'), into: box });
    await waitForState(element, 'connected');
    await waitForPrompt(element);
    const before = { cols: element.terminal!.cols, rows: element.terminal!.rows };
    box.style.width = '520px';
    box.style.height = '300px';
    await waitFor(() => element.terminal!.cols < before.cols && element.terminal!.rows < before.rows, 'the terminal to refit smaller');
    const { cols, rows } = element.terminal!;
    await typeLine(element, 'stty size');
    await waitForLine(element, `${rows} ${cols}`);
  });

  it('readonly drops typed input but shows what the session prints', async () => {
    const sandboxId = uniqueSandboxId('readonly');
    const sandbox = await sandboxClient(sandboxId);
    const session = await sandbox.createSession();
    const { element } = await mountTerminal({ sandbox: sandboxId, session, readonly: true });
    await waitForState(element, 'connected');
    await typeLine(element, 'echo typed""-while-readonly');
    // The marker is computed by the shell, so only the command's output (not its echo) contains it.
    await sandbox.exec('echo after-the-typing-$((6*7))', { session });
    await waitForText(element, 'after-the-typing-42');
    expect(screenText(element)).not.to.contain('typed-while-readonly');
    expect(screenText(element)).not.to.contain('typed""-while-readonly');
  });

  it('exit shows the exit state, and Restart starts a new shell', async () => {
    const { element } = await mountTerminal({ sandbox: uniqueSandboxId('exit') });
    await waitForState(element, 'connected');
    await waitForPrompt(element);
    const exits: number[] = [];
    element.addEventListener('exit', (event) => exits.push(event.detail.exitCode));
    await typeLine(element, 'exit 3');
    await waitForState(element, 'exited');
    expect(element.status.exitCode).to.equal(3);
    expect(exits).to.deep.equal([3]);
    expect(statusBarText(element)).to.contain('shell exited with code 3');

    const restart = element.shadowRoot!.querySelector<HTMLButtonElement>('[part="restart-button"]');
    expect(restart, 'a Restart button').to.exist;
    restart!.click();
    await waitForState(element, 'connected');
    expect(statusBarText(element)).to.contain('a new shell was started');
    expect(element.shadowRoot!.querySelector('[part="restart-button"]')).to.equal(null);
    await waitForPrompt(element);
    await typeLine(element, 'echo $((40+2))');
    await waitForLine(element, '42');
  });

  it('input typed while not connected is reported, not sent later', async () => {
    // Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    const { element } = await mountTerminal({ sandbox: uniqueSandboxId('offline'), session: 'no-relay-here', relay: 'http://127.0.0.1:9' });
    await waitForState(element, 'reconnecting');
    // The status may change between the keys and a poll (the next attempt, then the session back, which clears
    // inputDropped): what the user was told is recorded as it is shown, not read afterwards.
    const statuses: Array<{ inputDropped?: boolean }> = [];
    element.addEventListener('status-change', (event) => statuses.push(event.detail.status));
    const barTexts: string[] = [];
    const observer = new MutationObserver(() => barTexts.push(statusBarText(element)));
    observer.observe(element.shadowRoot!, { subtree: true, childList: true, characterData: true });
    try {
      await typeLine(element, 'echo lost');
      await waitFor(() => statuses.some((status) => status.inputDropped), 'the status to say the input was not sent', {
        describeState: () => JSON.stringify(statuses),
      });
    } finally {
      observer.disconnect();
    }
    expect(barTexts.find((text) => text.includes('input not sent'))).to.contain('input not sent');
  });

  it('keeps its session when moved in the DOM, and closes the old socket', async () => {
    const sandboxId = uniqueSandboxId('move');
    const { element } = await mountTerminal({ sandbox: sandboxId });
    await waitForState(element, 'connected');
    await waitForPrompt(element);
    const sessionId = element.sessionId!;
    await typeLine(element, 'export MOVED=yes');
    fixture().append(element);
    await waitForState(element, 'connected');
    expect(element.sessionId).to.equal(sessionId);
    await typeLine(element, 'echo moved=$MOVED');
    await waitForLine(element, 'moved=yes');
    const sandbox = await sandboxClient(sandboxId);
    await waitFor(async () => (await sandbox.getSession(sessionId)).viewers === 1, 'exactly one viewer on the relay');
  });

  it('reports the shell title and working directory', async () => {
    const { element } = await mountTerminal({ sandbox: uniqueSandboxId('title') });
    await waitForState(element, 'connected');
    await waitForPrompt(element);
    const titles: string[] = [];
    element.addEventListener('title-change', (event) => titles.push(event.detail.title));
    await typeLine(element, "mkdir -p /workspace/t1 && cd /workspace/t1 && printf '\\033]0;%s\\007' my-title");
    await waitFor(() => titles.includes('my-title'), 'a title-change event', { describeState: () => JSON.stringify(titles) });
    await waitFor(() => element.cwd === '/workspace/t1', 'cwd /workspace/t1', { describeState: () => String(element.cwd) });
    expect(element.shellTitle).to.equal('my-title');
  });

  it('runs exec(command) in its session, visibly, and returns the result', async () => {
    const { element } = await mountTerminal({ sandbox: uniqueSandboxId('exec') });
    await waitForState(element, 'connected');
    await waitForPrompt(element);
    await typeLine(element, 'cd /tmp');
    await waitFor(() => element.cwd === '/tmp', 'cwd /tmp');
    const result = await element.exec('pwd && echo from-agent-$((6*7))');
    expect(result.exitCode).to.equal(0);
    expect(result.stdout).to.equal('/tmp\nfrom-agent-42\n');
    await waitForText(element, 'from-agent-42');
  });
});
