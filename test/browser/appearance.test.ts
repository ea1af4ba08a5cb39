/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import type { SandboxTerminal } from '@sandbox-terminal/elements';
import { cleanUpFixtures, fixture, statusBarText, waitFor } from './helpers.ts';

/** A terminal with no relay configured: everything here is about the element itself, not the connection. */
async function mountOffline(attributes: Record<string, string>): Promise<SandboxTerminal> {
  const element = document.createElement('sandbox-terminal');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  fixture().append(element);
  await waitFor(() => element.terminal, 'the terminal to open');
  return element;
}

describe('<sandbox-terminal> appearance and options', () => {
  afterEach(cleanUpFixtures);

  it('without relay and sandbox it says what is missing', async () => {
    const element = await mountOffline({});
    expect(element.status.state).to.equal('idle');
    expect(statusBarText(element)).to.contain('set the relay and sandbox attributes');
  });

  it('theme="light" and theme="dark" give the terminal their colours, and follow changes', async () => {
    const element = await mountOffline({ theme: 'light' });
    expect(element.dataset.scheme).to.equal('light');
    expect(element.terminal!.options.theme?.background).to.equal('#fbfbfa');
    element.theme = 'dark';
    await element.updateComplete;
    expect(element.dataset.scheme).to.equal('dark');
    expect(element.terminal!.options.theme?.background).to.equal('#16181d');
  });

  it('theme="auto" follows prefers-color-scheme', async () => {
    const element = await mountOffline({ theme: 'auto' });
    const systemPrefersDark = matchMedia('(prefers-color-scheme: dark)').matches;
    expect(element.dataset.scheme).to.equal(systemPrefersDark ? 'dark' : 'light');
  });

  it('theme="auto" follows the site\'s own switch on <html> (a dark/light class, data-theme) before the system', async () => {
    const root = document.documentElement;
    try {
      const element = await mountOffline({ theme: 'auto' });
      root.classList.add('dark');
      await waitFor(() => element.dataset.scheme === 'dark', 'the dark class to win');
      await waitFor(() => element.terminal!.options.theme?.background === '#16181d', 'the dark background');
      root.classList.remove('dark');
      root.dataset.theme = 'light';
      await waitFor(() => element.dataset.scheme === 'light', 'data-theme="light" to win');
      await waitFor(() => element.terminal!.options.theme?.background === '#fbfbfa', 'the light background');
      root.dataset.theme = 'dark';
      await waitFor(() => element.dataset.scheme === 'dark', 'data-theme="dark" to win');
      root.dataset.theme = 'auto';
      const systemPrefersDark = matchMedia('(prefers-color-scheme: dark)').matches;
      await waitFor(() => element.dataset.scheme === (systemPrefersDark ? 'dark' : 'light'), 'the system preference again');
    } finally {
      root.classList.remove('dark');
      delete root.dataset.theme;
    }
  });

  it('the terminal\'s ANSI colours are the accessible palettes, not xterm\'s defaults', async () => {
    const dark = await mountOffline({ theme: 'dark' });
    expect(dark.terminal!.options.theme?.blue).to.equal('#6cb6ff');
    const light = await mountOffline({ theme: 'light' });
    expect(light.terminal!.options.theme?.brightBlue).to.equal('#0a65c2');
  });

  it('colours come from CSS custom properties', async () => {
    const box = fixture();
    box.style.setProperty('--sandbox-terminal-background', 'rgb(10, 20, 30)');
    box.style.setProperty('--sandbox-terminal-foreground', 'rgb(200, 210, 220)');
    const element = document.createElement('sandbox-terminal');
    box.append(element);
    await waitFor(() => element.terminal, 'the terminal to open');
    expect(element.terminal!.options.theme?.background).to.equal('rgb(10, 20, 30)');
    expect(element.terminal!.options.theme?.foreground).to.equal('rgb(200, 210, 220)');
  });

  it('font-size and font-family reach the terminal', async () => {
    const element = await mountOffline({ 'font-size': '18', 'font-family': 'monospace' });
    expect(element.terminal!.options.fontSize).to.equal(18);
    expect(element.terminal!.options.fontFamily).to.equal('monospace');
    element.fontSize = 11;
    await element.updateComplete;
    expect(element.terminal!.options.fontSize).to.equal(11);
  });

  it('screen-reader turns on the accessible mirror of the screen', async () => {
    const element = await mountOffline({ 'screen-reader': '' });
    expect(element.terminal!.options.screenReaderMode).to.equal(true);
    await waitFor(() => element.shadowRoot!.querySelector('.xterm-accessibility'), 'the accessibility tree');
  });

  it('readonly turns off the terminal input, also when set later', async () => {
    const element = await mountOffline({});
    expect(element.terminal!.options.disableStdin).to.equal(false);
    element.readonly = true;
    await element.updateComplete;
    expect(element.terminal!.options.disableStdin).to.equal(true);
    expect(element.hasAttribute('readonly')).to.equal(true);
  });

  it('parts are exposed for styling', async () => {
    const element = await mountOffline({});
    for (const part of ['terminal', 'status-bar', 'status-dot', 'status-message']) {
      expect(element.shadowRoot!.querySelector(`[part~="${part}"]`), part).to.exist;
    }
  });

  it('disposes its terminal when removed from the page', async () => {
    const element = await mountOffline({});
    expect(element.shadowRoot!.querySelector('.xterm'), 'the xterm element').to.exist;
    element.remove();
    expect(element.terminal).to.equal(undefined);
    expect(element.shadowRoot!.querySelector('.xterm')).to.equal(null);
    expect(element.status.state).to.equal('closed');
  });
});
