/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { sendKeys } from '@web/test-runner-commands';
import type { SandboxTerminal } from '@sandbox-terminal/elements';
import { cleanUpFixtures, fixture, mountTerminal, sandboxClient, typeLine, uniqueSandboxId, waitFor, waitForLine, waitForPrompt } from './helpers.ts';

/** A page with something to focus before and after the terminal, as a docs page has links around it. */
async function mountBetweenButtons(name: string): Promise<{ element: SandboxTerminal; before: HTMLButtonElement; after: HTMLButtonElement; sandboxId: string }> {
  const sandboxId = uniqueSandboxId(name);
  const box = fixture();
  box.style.display = 'flex';
  box.style.flexDirection = 'column';
  const before = Object.assign(document.createElement('button'), { textContent: 'before' });
  const after = Object.assign(document.createElement('button'), { textContent: 'after' });
  const holder = document.createElement('div');
  holder.style.cssText = 'flex: 1; min-height: 0;';
  box.append(before, holder, after);
  const { element } = await mountTerminal({ sandbox: sandboxId, into: holder });
  await waitForPrompt(element);
  return { element, before, after, sandboxId };
}

/** The element that has focus, looking into shadow roots. */
function focused(): Element | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

describe('<sandbox-terminal> keyboard', () => {
  afterEach(cleanUpFixtures);

  it('Tab completes in the shell; Escape then Tab moves focus on, Escape then Shift+Tab back, and nothing is left in readline', async () => {
    const { element, before, after, sandboxId } = await mountBetweenButtons('keys-leave');
    await (await sandboxClient(sandboxId)).writeFile('/workspace/completes-uniquely-417.txt', 'x');
    element.focus();
    await sendKeys({ type: 'ls /workspace/completes-uni' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Enter' });
    await waitForLine(element, '/workspace/completes-uniquely-417.txt');
    expect(element.shadowRoot!.contains(focused()), 'Tab stayed in the terminal').to.equal(true);
    await waitForPrompt(element);

    await sendKeys({ press: 'Escape' });
    await sendKeys({ press: 'Tab' });
    await waitFor(() => focused() === after, 'focus on the button after the terminal', { describeState: () => String(focused()?.outerHTML.slice(0, 80)) });

    element.focus();
    await sendKeys({ press: 'Escape' });
    await sendKeys({ press: 'Shift+Tab' });
    await waitFor(() => focused() === before, 'focus on the button before the terminal', { describeState: () => String(focused()?.outerHTML.slice(0, 80)) });

    // An Escape left in readline would make the next key a Meta chord: `e` of `echo` would be eaten.
    element.focus();
    await typeLine(element, 'echo back-$((6*7))');
    await waitForLine(element, 'back-42');
  });

  it('an Escape on its own still reaches the program', async () => {
    const { element } = await mountBetweenButtons('keys-escape');
    element.focus();
    await typeLine(element, `read -rsn1 key; printf 'got:%q\\n' "$key"`);
    await waitFor(() => element.commandRunning, 'read to be waiting');
    await sendKeys({ press: 'Escape' });
    await waitForLine(element, "got:$'\\E'");
  });

  it('says how to leave: a description on the terminal input, a visible hint on keyboard focus, and a focus ring', async () => {
    const { element, before } = await mountBetweenButtons('keys-help');
    const textarea = element.terminal!.textarea!;
    const describedBy = textarea.getAttribute('aria-describedby');
    expect(describedBy).to.be.a('string');
    const help = element.shadowRoot!.getElementById(describedBy!)!;
    expect(help.textContent).to.contain('Escape then Tab');

    before.focus();
    await sendKeys({ press: 'Tab' });
    await waitFor(() => focused() === textarea, 'Tab into the terminal');
    const hint = await waitFor(() => element.shadowRoot!.querySelector('[part="keys-hint"]'), 'the keys hint');
    expect(hint.textContent).to.contain('Tab');
    const ring = getComputedStyle(element.shadowRoot!.querySelector('[part="terminal"]')!);
    expect(ring.outlineStyle).to.not.equal('none');
    expect(parseFloat(ring.outlineWidth)).to.be.greaterThan(0);

    await sendKeys({ type: 'x' });
    await waitFor(() => !element.shadowRoot!.querySelector('[part="keys-hint"]'), 'the hint to go once typing starts');
  });
});
