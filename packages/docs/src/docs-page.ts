import { SandboxError, type ExecResult } from '@sandbox-terminal/client';
import type { SandboxTerminal } from '@sandbox-terminal/elements/classes';
import { readBlock, RUNNABLE_SELECTOR, type BlockSpec } from './block-spec.ts';
import type { BlockAction, BlockView, CheckView, SandboxRunControls } from './block-controls.ts';
import { setupSteps, type RunnableBlocksOptions, type SetupStep } from './config.ts';
import { DEFAULT_DOCK_HEIGHT_PX, type SandboxDocsDock } from './docs-dock.ts';
import { DocsSession } from './docs-session.ts';
import { emitDocsEvent } from './events.ts';
import { RunQueue } from './run-queue.ts';
import { SiteMemory } from './storage.ts';

/** Output shown under a block is cut after this many characters (the terminal has all of it). */
export const INLINE_OUTPUT_MAX_CHARS = 8_000;
/** "Copy to terminal" waits this long for the terminal to connect before it gives up. */
const TERMINAL_CONNECT_TIMEOUT_MS = 20_000;

interface BlockEntry {
  element: Element;
  spec: BlockSpec;
  controls: SandboxRunControls;
}

/**
 * Runnable code blocks on one page: finds the marked blocks, puts Run / Copy to terminal under each, runs them one at a
 * time in the site's shared session, shows them in the docked terminal, and offers setup, checks and the reset.
 * `refresh()` again after a client-side navigation (VitePress, Docusaurus): blocks that left the page are dropped, new
 * ones get controls; the dock and the session stay.
 */
export class RunnableBlocksPage {
  readonly session: DocsSession;
  readonly dock: SandboxDocsDock;
  readonly #options: RunnableBlocksOptions;
  readonly #memory: SiteMemory;
  readonly #queue = new RunQueue<Element>();
  readonly #blocks = new Map<Element, BlockEntry>();
  readonly #spacer: HTMLElement;
  /** Client-side navigation (VitePress, Docusaurus) swaps the content: blocks are found again when the DOM changes. */
  readonly #observer: MutationObserver;
  #refreshScheduled = false;
  #checksRestored = false;

  constructor(options: RunnableBlocksOptions) {
    this.#options = options;
    this.#memory = new SiteMemory(options.siteKey ?? location.origin);
    this.session = new DocsSession(options, this.#memory, (message) => this.#notify(message));
    this.dock = document.createElement('sandbox-docs-dock');
    this.dock.theme = options.theme ?? 'auto';
    const remembered = this.#memory.readDock();
    this.dock.heightPx = remembered?.heightPx ?? DEFAULT_DOCK_HEIGHT_PX;
    this.dock.addEventListener('dock-close', () => this.closeDock());
    this.dock.addEventListener('dock-reset', () => void this.reset().catch((error: unknown) => this.#notify(`reset failed: ${messageOf(error)}`)));
    this.dock.addEventListener('dock-resize', () => this.#layout());
    this.#spacer = Object.assign(document.createElement('div'), { className: 'sandbox-docs-spacer' });
    this.#spacer.setAttribute('aria-hidden', 'true');
    document.body.append(this.dock, this.#spacer);
    this.session.onTargetChange((target) => (this.dock.target = target));
    this.#queue.onChange(() => this.#showQueue());
    this.refresh();
    this.#observer = new MutationObserver(() => this.#scheduleRefresh());
    this.#observer.observe(document.body, { childList: true, subtree: true });
    if (remembered?.open) this.openDock();
    else if (this.#memory.readSession()) void this.session.ready().then(() => this.#restoreChecks(), () => undefined);
  }

  /** The blocks the page found, in page order. */
  get blocks(): BlockSpec[] {
    return [...this.#blocks.values()].map((entry) => entry.spec);
  }

  /** The controls under a block (tests and custom UIs). */
  controlsFor(element: Element): SandboxRunControls | undefined {
    return this.#blocks.get(element)?.controls;
  }

  /** The docked terminal, while the dock is open and the session known. */
  get terminal(): SandboxTerminal | null {
    return this.dock.terminal;
  }

  /** Finds the marked blocks under `root`; drops the ones no longer in the document. */
  refresh(root: ParentNode = document): void {
    for (const [element, entry] of this.#blocks) {
      if (element.isConnected) continue;
      entry.controls.remove();
      const pending = this.#queue.pendingFor(element);
      if (pending?.state === 'queued') this.#queue.cancel(pending);
      this.#blocks.delete(element);
    }
    const found = [...root.querySelectorAll(RUNNABLE_SELECTOR)].filter((element) => !this.#blocks.has(element) && !element.closest('sandbox-run-controls'));
    for (const element of found) {
      const spec = readBlock(element, this.#blocks.size);
      const controls = document.createElement('sandbox-run-controls');
      controls.kind = spec.kind;
      controls.saveAs = spec.saveAs;
      controls.addEventListener('block-action', (event) => this.#act(element, (event as CustomEvent<{ action: BlockAction }>).detail.action));
      element.after(controls);
      this.#blocks.set(element, { element, spec, controls });
    }
    if (found.length && this.#checksRestored) void this.#restoreChecks(found);
  }

  /** Runs a block (queued behind what runs). */
  run(element: Element): void {
    const entry = this.#blocks.get(element);
    if (!entry || this.#queue.pendingFor(element) || entry.spec.kind.startsWith('setup')) return;
    this.openDock();
    this.#queue.add(element, (signal) => this.#runBlock(entry, signal));
  }

  openDock(): void {
    if (!this.dock.open) {
      this.dock.open = true;
      this.#layout();
    }
    void this.session.ready().then(
      () => this.#restoreChecks(),
      (error: unknown) => this.#notify(`cannot reach the sandbox: ${messageOf(error)}`),
    );
  }

  closeDock(): void {
    this.dock.open = false;
    this.#layout();
  }

  /** A fresh sandbox (from the template): waiting runs are cancelled, results and checks cleared. */
  async reset(): Promise<void> {
    this.#queue.clear();
    this.dock.resetting = true;
    try {
      const target = await this.session.reset();
      for (const entry of this.#blocks.values()) {
        entry.controls.view = { state: 'idle' };
        if (entry.spec.check) entry.controls.check = 'not-yet';
      }
      this.#notify('');
      emitDocsEvent(document, 'sandbox-reset', { sandbox: target.sandbox, sessionId: target.sessionId });
    } finally {
      this.dock.resetting = false;
    }
  }

  /** Removes everything the page added (the session stays on the relay). */
  dispose(): void {
    this.#observer.disconnect();
    this.#queue.clear();
    for (const entry of this.#blocks.values()) entry.controls.remove();
    this.#blocks.clear();
    this.dock.remove();
    this.#spacer.remove();
  }

  #scheduleRefresh(): void {
    if (this.#refreshScheduled) return;
    this.#refreshScheduled = true;
    queueMicrotask(() => {
      this.#refreshScheduled = false;
      this.refresh();
    });
  }

  #act(element: Element, action: BlockAction): void {
    const entry = this.#blocks.get(element);
    if (!entry) return;
    const pending = this.#queue.pendingFor(element);
    if (action === 'run') this.run(element);
    else if (action === 'copy') void this.#copyToTerminal(entry.spec.code).catch((error: unknown) => this.#notify(`copy to terminal failed: ${messageOf(error)}`));
    else if (action === 'cancel' && pending?.state === 'queued') {
      this.#queue.cancel(pending);
      entry.controls.view = { state: 'idle' };
    } else if (action === 'stop' && pending?.state === 'running') pending.stop();
  }

  async #runBlock(entry: BlockEntry, signal: AbortSignal): Promise<void> {
    const { spec, controls, element } = entry;
    try {
      const failedSetup = await this.#ensureSetup(entry);
      if (failedSetup) {
        controls.view = { state: 'error', message: `setup failed (exit ${failedSetup.exitCode}); see the terminal` };
        return;
      }
      controls.view = { state: 'running' };
      emitDocsEvent(element, 'sandbox-run-start', { step: spec.step, kind: spec.kind });
      const started = performance.now();
      if (spec.kind === 'file') {
        await this.session.writeFile(spec.saveAs!, spec.code);
        controls.view = { state: 'saved', path: spec.saveAs! };
        emitDocsEvent(element, 'sandbox-run', { step: spec.step, kind: spec.kind, exitCode: 0, success: true, stdout: '', stderr: '', durationMs: performance.now() - started, timedOut: false });
      } else {
        const result = await this.session.exec(spec.code, { ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}), signal });
        controls.view = {
          state: 'finished',
          exitCode: result.exitCode,
          durationMs: result.durationMs,
          timedOut: result.timedOut,
          stopped: false,
          ...(spec.inlineOutput ? { output: inlineOutput(result) } : {}),
        };
        emitDocsEvent(element, 'sandbox-run', { step: spec.step, kind: spec.kind, exitCode: result.exitCode, success: result.success, stdout: result.stdout, stderr: result.stderr, durationMs: result.durationMs, timedOut: result.timedOut });
      }
      if (spec.check) await this.#check(entry);
    } catch (error) {
      controls.view = signal.aborted ? { state: 'finished', exitCode: 130, durationMs: 0, timedOut: false, stopped: true } : { state: 'error', message: messageOf(error) };
    }
  }

  /** The site's setup, then this page's setup blocks, each once per sandbox; progress on the block and the dock. */
  async #ensureSetup(entry: BlockEntry): Promise<ExecResult | undefined> {
    const pageSteps: SetupStep[] = [...this.#blocks.values()]
      .filter((candidate) => candidate.spec.kind.startsWith('setup'))
      .map(({ spec }) => (spec.kind === 'setup-file' ? { kind: 'file', path: spec.saveAs!, content: spec.code } : { kind: 'command', command: spec.code }));
    for (const steps of [setupSteps(this.#options.setup), pageSteps]) {
      const failed = await this.session.runSetup(steps, (progress) => {
        entry.controls.view = progress.state === 'running' ? { state: 'setup', message: progress.message } : entry.controls.view;
        this.dock.activity = progress.state === 'done' ? '' : `setup ${progress.done + (progress.state === 'running' ? 1 : 0)}/${progress.total}: ${progress.message}`;
        emitDocsEvent(document, 'sandbox-setup', progress);
      });
      if (failed) return failed;
    }
    return undefined;
  }

  async #check(entry: BlockEntry): Promise<void> {
    const { spec, controls, element } = entry;
    controls.check = 'checking';
    let view: CheckView;
    let exitCode = -1;
    try {
      exitCode = (await this.session.check(spec.check!)).exitCode;
      view = exitCode === 0 ? 'passed' : 'not-yet';
    } catch {
      view = 'error';
    }
    controls.check = view;
    if (view !== 'error') emitDocsEvent(element, 'sandbox-check', { step: spec.step, passed: view === 'passed', exitCode });
  }

  /** A reader coming back to a known sandbox sees which steps are already done. */
  async #restoreChecks(elements?: Element[]): Promise<void> {
    if (!elements) {
      if (this.#checksRestored || !this.session.resumed) return;
      this.#checksRestored = true;
    }
    const entries = (elements ?? [...this.#blocks.keys()]).map((element) => this.#blocks.get(element)).filter((entry) => entry?.spec.check);
    for (const entry of entries) if (!this.#queue.pendingFor(entry!.element)) await this.#check(entry!);
  }

  async #copyToTerminal(code: string): Promise<void> {
    this.openDock();
    await this.session.ready();
    await this.dock.updateComplete;
    const element = this.dock.terminal;
    if (!element) throw new Error('the terminal is not open');
    await waitForConnected(element);
    element.terminal?.paste(code);
    element.focus();
  }

  #showQueue(): void {
    const current = this.#queue.current;
    for (const [element, entry] of this.#blocks) {
      const pending = this.#queue.pendingFor(element);
      if (pending?.state === 'queued') entry.controls.view = { state: 'queued', place: this.#queue.placeOf(pending) };
    }
    const waiting = this.#queue.waiting.length;
    const running = current ? `running ${this.#blocks.get(current.owner)?.spec.step ?? 'a block'}` : '';
    this.dock.activity = [running, waiting ? `${waiting} queued` : ''].filter(Boolean).join(' · ');
  }

  #notify(message: string): void {
    this.dock.notice = message;
    if (message) console.info(`sandbox-terminal docs: ${message}`);
  }

  #layout(): void {
    this.#spacer.style.height = this.dock.open ? `${this.dock.heightPx}px` : '0';
    this.#memory.writeDock({ open: this.dock.open, heightPx: this.dock.heightPx });
  }
}

function inlineOutput(result: ExecResult): string {
  const text = `${result.stdout}${result.stderr}`.replace(/\n$/, '');
  return text.length > INLINE_OUTPUT_MAX_CHARS ? `${text.slice(0, INLINE_OUTPUT_MAX_CHARS)}\n… (${text.length - INLINE_OUTPUT_MAX_CHARS} more characters in the terminal)` : text;
}

function messageOf(error: unknown): string {
  if (error instanceof SandboxError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function waitForConnected(element: SandboxTerminal): Promise<void> {
  if (element.status.state === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      element.removeEventListener('status-change', listener);
      reject(new Error(`the terminal did not connect within ${TERMINAL_CONNECT_TIMEOUT_MS / 1000} s`));
    }, TERMINAL_CONNECT_TIMEOUT_MS);
    const listener = () => {
      if (element.status.state !== 'connected') return;
      clearTimeout(timer);
      element.removeEventListener('status-change', listener);
      resolve();
    };
    element.addEventListener('status-change', listener);
  });
}
