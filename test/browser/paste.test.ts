/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { sendKeys } from '@web/test-runner-commands';
import { cleanUpFixtures, fixture, mountTerminal, sandboxClient, typeLine, uniqueSandboxId, waitFor, waitForLine, waitForPrompt } from './helpers.ts';

/** Over the relay's default `terminalMessageBytes` (1 MiB): sent as one frame, the relay would close the socket. */
const PASTE_BYTES = 1.5 * 1024 * 1024;
const LINE_PAYLOAD = 'the quick brown fox jumps over the lazy dog 0123456789 ';

function pasteText(): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < PASTE_BYTES; i++) {
    const line = `${String(i).padStart(7, '0')} ${LINE_PAYLOAD}${'é'.repeat(i % 7)}\n`;
    lines.push(line);
    size += new TextEncoder().encode(line).length;
  }
  return lines.join('');
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

describe('<sandbox-terminal> input', () => {
  afterEach(cleanUpFixtures);

  it('a paste larger than the relay\'s message limit reaches the shell whole, and the connection stays up', async () => {
    const sandboxId = uniqueSandboxId('paste');
    const { element, states } = await mountTerminal({ sandbox: sandboxId });
    await waitForPrompt(element);
    // No echo: the paste should be measured going in, not 1.5 MiB coming back out.
    await typeLine(element, 'stty -echo; cat > /workspace/paste.txt; stty echo; echo pasted-$((40+2))');
    // Pasted before cat runs, the text would go to readline, which reads typeahead into a buffer of its own.
    const sandbox = await sandboxClient(sandboxId);
    await waitFor(async () => (await sandbox.exec('pgrep -x cat')).exitCode === 0, 'cat running');
    await waitFor(() => element.terminal!.modes.bracketedPasteMode === false, 'bracketed paste off (readline is done)');
    const text = pasteText();
    element.terminal!.paste(text);
    element.terminal!.input('\x04');
    await waitForLine(element, 'pasted-42');
    const result = await sandbox.exec('sha256sum < /workspace/paste.txt | cut -d" " -f1; wc -c < /workspace/paste.txt');
    const [digest, size] = result.stdout.trim().split('\n');
    expect(Number(size)).to.equal(new TextEncoder().encode(text).length);
    expect(digest).to.equal(await sha256Hex(text));
    expect(states).not.to.include('reconnecting');
    await waitFor(() => element.status.state === 'connected', 'still connected');
  });

  it('Ctrl+V pastes the clipboard into the shell, and Ctrl+Alt+V sends a literal Ctrl+V', async () => {
    const { element } = await mountTerminal({ sandbox: uniqueSandboxId('ctrl-v') });
    await waitForPrompt(element);
    // Onto the clipboard the way a user puts it there: select text, press Ctrl+C.
    const source = Object.assign(document.createElement('textarea'), { value: 'pasted-by-ctrl-v-417' });
    fixture().append(source);
    source.focus();
    source.select();
    await sendKeys({ press: 'Control+C' });

    await typeLine(element, `read -r line; printf 'got:%s\\n' "$line"`);
    await waitFor(() => element.commandRunning && element.terminal!.modes.bracketedPasteMode === false, 'read waiting, readline done');
    await sendKeys({ press: 'Control+V' });
    await sendKeys({ press: 'Enter' });
    await waitForLine(element, 'got:pasted-by-ctrl-v-417');

    await waitForPrompt(element);
    await typeLine(element, `read -rsn1 key; printf 'got:%q\\n' "$key"`);
    await waitFor(() => element.commandRunning, 'read to be waiting');
    await sendKeys({ press: 'Control+Alt+V' });
    await waitForLine(element, "got:$'\\026'");
  });
});
