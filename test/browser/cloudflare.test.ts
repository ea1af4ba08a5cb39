/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import type { ConnectionState, ExitDetail, SandboxTerminal } from '@sandbox-terminal/elements';
import {
  cleanUpFixtures,
  fixture,
  relayCommands,
  sandboxClient,
  screenLines,
  typeLine,
  uniqueSandboxId,
  waitFor,
  waitForLine,
  waitForState,
} from './helpers.ts';

/**
 * `protocol="cloudflare"` against our relay's compatibility mode: a socket without our subprotocol is served as a
 * Cloudflare Sandbox SDK v0.x client, which is what a Worker calling `sandbox.terminal(request)` looks like.
 */
async function mountCloudflareTerminal(
  name: string,
  protocol: 'cloudflare' | 'cloudflare-1' = 'cloudflare',
): Promise<{ element: SandboxTerminal; states: ConnectionState[]; box: HTMLElement }> {
  const sandbox = await sandboxClient(uniqueSandboxId(name));
  const sessionId = await sandbox.createSession();
  const element = document.createElement('sandbox-terminal');
  element.protocol = protocol;
  element.url = sandbox.terminalUrl(sessionId);
  element.style.height = '100%';
  const states: ConnectionState[] = [];
  element.addEventListener('status-change', (event) => states.push(event.detail.status.state));
  const box = fixture();
  box.append(element);
  return { element, states, box };
}

/** The shell is up: what the user typed comes back. */
async function waitForShell(element: SandboxTerminal): Promise<void> {
  await waitForState(element, 'connected');
  await typeLine(element, 'echo rea""dy');
  await waitForLine(element, 'ready');
}

describe('<sandbox-terminal protocol="cloudflare">', () => {
  afterEach(cleanUpFixtures);

  it('types into the shell and shows its output, without the client SDK or our subprotocol', async () => {
    const { element } = await mountCloudflareTerminal('cf-echo');
    await waitForShell(element);
    expect(element.sessionId, 'the Worker decides the session').to.equal(undefined);
    expect(element.connection?.protocol).to.equal('cloudflare');
    await typeLine(element, 'echo hi');
    await waitForLine(element, 'hi');
  });

  it('sends its size as a resize frame: stty size follows the element', async () => {
    const { element, box } = await mountCloudflareTerminal('cf-resize');
    await waitForShell(element);
    const terminal = element.terminal!;
    await typeLine(element, 'stty size');
    await waitForLine(element, `${terminal.rows} ${terminal.cols}`);

    const before = { cols: terminal.cols, rows: terminal.rows };
    box.style.width = '500px';
    box.style.height = '300px';
    await waitFor(() => terminal.cols < before.cols && terminal.rows < before.rows, 'the terminal to fit the smaller box');
    await typeLine(element, 'clear; stty size');
    await waitForLine(element, `${terminal.rows} ${terminal.cols}`);
  });

  it('shows the exit state with the exit code', async () => {
    const { element } = await mountCloudflareTerminal('cf-exit');
    await waitForShell(element);
    const exits: ExitDetail[] = [];
    element.addEventListener('exit', (event) => exits.push(event.detail));
    await typeLine(element, 'exit 3');
    await waitForState(element, 'exited');
    expect(element.status.exitCode).to.equal(3);
    expect(exits.map((exit) => exit.exitCode)).to.deep.equal([3]);
  });

  it('clears the screen on reconnect, so the replayed buffer does not show twice', async () => {
    const { element, states } = await mountCloudflareTerminal('cf-drop');
    await waitForShell(element);
    await typeLine(element, 'echo once-$((6*7))');
    await waitForLine(element, 'once-42');
    states.length = 0;
    const sandboxId = new URL(element.url!).pathname.split('/')[3]!;
    await relayCommands.dropConnections(decodeURIComponent(sandboxId));
    await waitFor(() => states.includes('reconnecting'), 'status "reconnecting"', { describeState: () => states.join(' → ') });
    await waitForState(element, 'connected');
    await waitForLine(element, 'once-42');
    expect(screenLines(element).filter((line) => line.trim() === 'once-42')).to.have.length(1);
    await typeLine(element, 'echo still-$((6*7))');
    await waitForLine(element, 'still-42');
  });
});

/**
 * `protocol="cloudflare-1"`: a Worker that follows Cloudflare's Sandbox SDK 1.0 browser-terminal recipe (binary
 * keystrokes, a bare `{"cols","rows"}` resize, a `{"type":"ready"}` frame), here the relay's compatibility mode, which
 * takes that resize too.
 */
describe('<sandbox-terminal protocol="cloudflare-1">', () => {
  afterEach(cleanUpFixtures);

  it('types into the shell, and its untyped resize frames reach the PTY: stty size follows the element', async () => {
    const { element, box } = await mountCloudflareTerminal('cf1-resize', 'cloudflare-1');
    await waitForShell(element);
    expect(element.connection?.protocol).to.equal('cloudflare-1');
    const terminal = element.terminal!;
    await typeLine(element, 'stty size');
    await waitForLine(element, `${terminal.rows} ${terminal.cols}`);
    const before = { cols: terminal.cols, rows: terminal.rows };
    box.style.width = '520px';
    box.style.height = '280px';
    await waitFor(() => terminal.cols < before.cols && terminal.rows < before.rows, 'the terminal to fit the smaller box');
    await typeLine(element, 'clear; stty size');
    await waitForLine(element, `${terminal.rows} ${terminal.cols}`);
  });

  it('reconnects without doubling the screen the server draws again', async () => {
    const { element, states } = await mountCloudflareTerminal('cf1-drop', 'cloudflare-1');
    await waitForShell(element);
    await typeLine(element, 'echo once-$((6*7))');
    await waitForLine(element, 'once-42');
    states.length = 0;
    const sandboxId = new URL(element.url!).pathname.split('/')[3]!;
    await relayCommands.dropConnections(decodeURIComponent(sandboxId));
    await waitFor(() => states.includes('reconnecting'), 'status "reconnecting"', { describeState: () => states.join(' → ') });
    await waitForState(element, 'connected');
    await waitForLine(element, 'once-42');
    expect(screenLines(element).filter((line) => line.trim() === 'once-42')).to.have.length(1);
  });
});
