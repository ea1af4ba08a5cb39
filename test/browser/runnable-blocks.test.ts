// Runnable code blocks on a plain HTML page (@sandbox-terminal/docs): real Chromium, the relay the test runner
// started, real bash. Each test loads the fixture page in an iframe of its own, with its own sandbox and site key.
import { expect } from '@esm-bundle/chai';
import type { RunnableBlocksPage, SandboxRunControls } from '@sandbox-terminal/docs';
import { cleanUpFixtures, fixture, relayUrl, sandboxClient, screenText, uniqueSandboxId, waitFor, waitForState } from './helpers.ts';

interface DocsEvent {
  type: string;
  detail: Record<string, unknown>;
}
type FrameWindow = Window & { docsPage: RunnableBlocksPage; docsEvents: DocsEvent[] };

interface Tutorial {
  frame: HTMLIFrameElement;
  sandboxId: string;
  win: () => FrameWindow;
  page: () => RunnableBlocksPage;
  controls: (id: string) => SandboxRunControls;
  button: (id: string, name: string) => HTMLButtonElement;
  status: (id: string) => string;
  events: () => DocsEvent[];
}

async function openTutorial(existing?: { sandboxId: string; site: string }): Promise<Tutorial> {
  const sandboxId = existing?.sandboxId ?? uniqueSandboxId('docs');
  const site = existing?.site ?? `site-${Math.random().toString(36).slice(2)}`;
  const frame = document.createElement('iframe');
  frame.style.cssText = 'width: 900px; height: 700px; border: 0;';
  frame.src = `/test/browser/fixtures/runnable-blocks.html?${new URLSearchParams({ relay: await relayUrl(), sandbox: sandboxId, site })}`;
  fixture().append(frame);
  const win = () => frame.contentWindow as FrameWindow;
  const tutorial: Tutorial = {
    frame,
    sandboxId,
    win,
    page: () => win().docsPage,
    controls: (id) => {
      const block = frame.contentDocument!.getElementById(id)!;
      return win().docsPage.controlsFor(block)!;
    },
    button: (id, name) => {
      const buttons = [...tutorial.controls(id).shadowRoot!.querySelectorAll('button')];
      const button = buttons.find((candidate) => (candidate.getAttribute('aria-label') ?? candidate.textContent!.trim()) === name);
      if (!button) throw new Error(`no button "${name}" under #${id}: ${buttons.map((candidate) => candidate.getAttribute('aria-label') ?? candidate.textContent).join(', ')}`);
      return button;
    },
    status: (id) => tutorial.controls(id).shadowRoot!.querySelector('[part="status"]')?.textContent?.trim() ?? '',
    events: () => win().docsEvents ?? [],
  };
  await waitFor(() => win()?.docsPage?.controlsFor(frame.contentDocument!.getElementById('mkdir')!)?.shadowRoot, 'the enhanced page');
  if (existing) (tutorial as Tutorial & { site: string }).site = site;
  return Object.assign(tutorial, { site });
}

async function runAndWait(tutorial: Tutorial, id: string, expected = /Exit 0/): Promise<void> {
  tutorial.button(id, 'Run').click();
  await waitFor(() => expected.test(tutorial.status(id)), `block #${id} to finish (${expected})`, { describeState: () => `status: ${tutorial.status(id)}; dock: ${tutorial.page().dock.notice} ${tutorial.page().dock.activity}` });
}

describe('runnable code blocks on a plain HTML page', () => {
  afterEach(() => {
    cleanUpFixtures();
    localStorage.clear();
  });

  it('every block gets a Run button (a file block Save) and Copy to terminal; the code stays in the page', async () => {
    const tutorial = await openTutorial();
    expect(tutorial.button('mkdir', 'Run').textContent!.trim()).to.equal('Run');
    expect(tutorial.button('where', 'Copy to terminal').tagName).to.equal('BUTTON');
    expect(tutorial.button('file', 'Save /workspace/app/hello.sh').textContent!.trim()).to.equal('Save');
    expect(tutorial.frame.contentDocument!.getElementById('mkdir')!.textContent).to.equal('mkdir -p /workspace/app\ncd /workspace/app');
    expect(tutorial.page().blocks.map((block) => block.step)).to.deep.equal(['block-1', 'block-2', 'mkdir', 'where', 'block-5', 'finish', 'never', 'slow', 'after-1', 'after-2']);
    expect(tutorial.page().dock.open).to.equal(false, 'the dock opens on the first Run, not before');
  });

  it('runs the setup once before the first block, then two blocks in one session: the second sees the first\'s cd', async () => {
    const tutorial = await openTutorial();
    await runAndWait(tutorial, 'mkdir');
    await runAndWait(tutorial, 'where');
    const output = tutorial.controls('where').shadowRoot!.querySelector('[part="output"]')!.textContent;
    expect(output).to.equal('cwd=/workspace/app greeting=hello-from-setup');
    const types = tutorial.events().map((event) => `${event.type}:${String(event.detail.state ?? event.detail.step ?? '')}`);
    expect(types.filter((type) => type === 'sandbox-setup:done')).to.have.length(1, `setup ran more than once: ${types.join(' ')}`);
    expect(types.indexOf('sandbox-setup:done')).to.be.below(types.indexOf('sandbox-run-start:mkdir'));
    const sandbox = await sandboxClient(tutorial.sandboxId);
    expect(await sandbox.readFile('/workspace/setup.txt')).to.equal('seeded by setup\n');
    // The docked terminal opened on the first Run and shows what ran.
    const terminal = await waitFor(() => tutorial.page().terminal, 'the docked terminal');
    await waitForState(terminal, 'connected');
    await waitFor(() => screenText(terminal).includes('cwd=/workspace/app greeting=hello-from-setup'), 'the block\'s output in the terminal', { describeState: () => screenText(terminal).slice(-800) });
  });

  it('a save-as block writes its file into the sandbox', async () => {
    const tutorial = await openTutorial();
    tutorial.button('file', 'Save /workspace/app/hello.sh').click();
    await waitFor(() => tutorial.status('file') === '✓ Saved /workspace/app/hello.sh', 'the file block to be saved', { describeState: () => tutorial.status('file') });
    const sandbox = await sandboxClient(tutorial.sandboxId);
    expect(await sandbox.readFile('/workspace/app/hello.sh')).to.equal('echo "hello from $PWD"\n');
    const run = tutorial.events().find((event) => event.type === 'sandbox-run');
    expect(run?.detail).to.include({ step: 'block-5', kind: 'file', exitCode: 0 });
  });

  it('a check passes after its step and says "not yet" before; each result is an event', async () => {
    const tutorial = await openTutorial();
    await runAndWait(tutorial, 'never');
    await waitFor(() => tutorial.controls('never').check === 'not-yet', 'the failing check');
    await runAndWait(tutorial, 'mkdir');
    await runAndWait(tutorial, 'finish');
    await waitFor(() => tutorial.controls('finish').check === 'passed', 'the passing check');
    const badge = tutorial.controls('finish').shadowRoot!.querySelector('[part="check"]')!.textContent!.trim();
    expect(badge).to.equal('✓ Check passed');
    const checks = tutorial.events().filter((event) => event.type === 'sandbox-check').map((event) => event.detail);
    expect(checks).to.deep.equal([
      { step: 'never', passed: false, exitCode: 1 },
      { step: 'finish', passed: true, exitCode: 0 },
    ]);
  });

  it('blocks run in the order of the clicks; one clicked while another runs waits in the queue, visibly', async () => {
    const tutorial = await openTutorial();
    tutorial.button('slow', 'Run').click();
    await waitFor(() => tutorial.status('slow') === 'Running…', 'the slow block to run', { describeState: () => tutorial.status('slow') });
    tutorial.button('after-2', 'Run').click();
    tutorial.button('after-1', 'Run').click();
    await waitFor(() => tutorial.status('after-1') === 'Queued: 2nd in line', 'the second click to wait', { describeState: () => tutorial.status('after-1') });
    expect(tutorial.status('after-2')).to.equal('Queued: next');
    expect(tutorial.page().dock.activity).to.equal('running slow · 2 queued');
    expect(tutorial.button('after-1', 'Run').disabled).to.equal(true);
    await waitFor(() => /Exit 0/.test(tutorial.status('after-1')), 'the queue to drain', { timeoutMs: 30_000 });
    const starts = tutorial.events().filter((event) => event.type === 'sandbox-run-start').map((event) => event.detail.step);
    expect(starts).to.deep.equal(['slow', 'after-2', 'after-1']);
  });

  it('reset gives a fresh sandbox: the files and the cd are gone, a new session, and the setup runs again', async () => {
    const tutorial = await openTutorial();
    await runAndWait(tutorial, 'mkdir');
    const before = tutorial.page().session.target!.sessionId;
    const dock = tutorial.page().dock;
    const header = () => [...dock.shadowRoot!.querySelectorAll('header button')] as HTMLButtonElement[];
    header().find((button) => button.textContent!.trim() === 'Reset sandbox')!.click();
    await dock.updateComplete;
    header().find((button) => button.textContent!.trim() === 'Reset')!.click();
    await waitFor(() => tutorial.events().some((event) => event.type === 'sandbox-reset'), 'the reset');
    expect(tutorial.page().session.target!.sessionId).to.not.equal(before);
    expect(tutorial.status('mkdir')).to.equal('');
    const sandbox = await sandboxClient(tutorial.sandboxId);
    expect(await sandbox.exists('/workspace/app')).to.equal(false);
    await runAndWait(tutorial, 'where');
    expect(tutorial.controls('where').shadowRoot!.querySelector('[part="output"]')!.textContent).to.equal('cwd=/workspace greeting=hello-from-setup');
    expect(tutorial.events().filter((event) => event.type === 'sandbox-setup' && event.detail.state === 'done')).to.have.length(2);
  });

  it('a reload keeps the session (its cd and env) and reopens the dock', async () => {
    const tutorial = await openTutorial();
    await runAndWait(tutorial, 'mkdir');
    const sessionId = tutorial.page().session.target!.sessionId;
    const before = tutorial.page();
    tutorial.win().location.reload();
    await waitFor(() => tutorial.win().docsPage && tutorial.win().docsPage !== before && tutorial.page().session.target, 'the reloaded page and its session');
    expect(tutorial.page().session.target!.sessionId).to.equal(sessionId);
    expect(tutorial.page().session.resumed).to.equal(true);
    expect(tutorial.page().dock.open).to.equal(true);
    await runAndWait(tutorial, 'where');
    expect(tutorial.controls('where').shadowRoot!.querySelector('[part="output"]')!.textContent).to.equal('cwd=/workspace/app greeting=hello-from-setup');
  });

  it('Copy to terminal puts the block at the prompt without running it', async () => {
    const tutorial = await openTutorial();
    tutorial.button('where', 'Copy to terminal').click();
    const terminal = await waitFor(() => tutorial.page().terminal, 'the docked terminal');
    await waitFor(() => screenText(terminal).includes('echo "cwd=$PWD greeting=$GREETING"'), 'the pasted command', { describeState: () => screenText(terminal).slice(-500) });
    expect(screenText(terminal)).to.not.include('cwd=/workspace greeting');
    expect(tutorial.events().filter((event) => event.type === 'sandbox-run-start')).to.have.length(0);
  });

  it('the dock resizes from its handle (keyboard), closes, and the next Run opens it again', async () => {
    const tutorial = await openTutorial();
    await runAndWait(tutorial, 'mkdir');
    const dock = tutorial.page().dock;
    const handle = dock.shadowRoot!.querySelector<HTMLElement>('[role="separator"]')!;
    const height = dock.heightPx;
    handle.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true }));
    expect(dock.heightPx).to.equal(height + 24);
    await dock.updateComplete;
    expect(dock.getBoundingClientRect().height).to.be.closeTo(height + 24, 1);
    dock.shadowRoot!.querySelector<HTMLButtonElement>('button[aria-label="Close the terminal"]')!.click();
    await dock.updateComplete;
    expect(dock.open).to.equal(false);
    expect(tutorial.page().terminal).to.equal(null);
    await runAndWait(tutorial, 'where');
    expect(dock.open).to.equal(true);
    expect(tutorial.controls('where').shadowRoot!.querySelector('[part="output"]')!.textContent).to.equal('cwd=/workspace/app greeting=hello-from-setup');
  });
});
