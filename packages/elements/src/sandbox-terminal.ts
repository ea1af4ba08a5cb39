import { html, LitElement, nothing, type PropertyValues } from 'lit';
import type { ExecOptions, ExecResult } from '@sandbox-terminal/client';
import { connectionErrorFrom, errorDetail, statuses, withInputDropped, type ConnectionStatus } from './connection-status.ts';
import { AppearanceController } from './controllers/appearance-controller.ts';
import { ConnectionStatusController } from './controllers/connection-status-controller.ts';
import { TerminalFitController } from './controllers/fit-controller.ts';
import { KeysHintController } from './controllers/keys-hint-controller.ts';
import { SessionConnectionController } from './controllers/session-connection-controller.ts';
import { emit } from './events.ts';
import type { RelayConnectionAddon, ReconnectPolicy, TerminalProtocol } from './relay-connection-addon.ts';
import { sandboxTerminalStyles } from './sandbox-terminal.styles.ts';
import type { TokenProvider } from './relay-auth.ts';
import { ShellPromptTracker } from './shell-prompt-tracker.ts';
import { TerminalKeys } from './terminal-keys.ts';
import type { TerminalTheme } from './terminal-theme.ts';
import { TypeaheadBuffer } from './typeahead.ts';
import { Terminal, WebLinksAddon } from './xterm-modules.ts';
import { xtermStyles } from './xterm.styles.ts';

export type { TerminalTheme } from './terminal-theme.ts';

/** Lines of scrollback each terminal keeps in the browser. */
const SCROLLBACK_LINES = 5_000;
const DEFAULT_FONT_SIZE_PX = 14;
/** At xterm's default of 1.0, the DOM renderer clips underscores with common monospace fonts (`a_b` reads `a b`). */
const LINE_HEIGHT = 1.15;
const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/** `copy-on-select="false"` turns the default-on behaviour off; a bare attribute or any other value keeps it on. */
const booleanDefaultTrue = {
  fromAttribute: (value: string | null) => value === null || value !== 'false',
  toAttribute: (value: boolean) => (value ? '' : 'false'),
};

/**
 * A live terminal on a session of a sandbox, through a sandbox-terminal relay.
 *
 * Keys: Tab goes to the shell; Escape then Tab (Shift+Tab) moves focus on (back); Ctrl+V and Ctrl+Shift+V paste
 * (⌘V on macOS), Ctrl+Alt+V sends a literal Ctrl+V. Keys typed while the first connection is still being made are
 * sent once it is up (for a few seconds at most).
 *
 * With `protocol="cloudflare"` (a Sandbox SDK 0.x Worker's `sandbox.terminal(request)`) or `"cloudflare-1"` (a Worker
 * on the SDK 1.0 browser-terminal recipe) it talks to the Worker at `url` instead, which decides the sandbox and
 * session: no cursor resume, no flow control, no `exec()`; `restart()` reconnects (docs/protocol.md, "Compatibility").
 *
 * @tag sandbox-terminal
 * @summary A real bash shell in an isolated sandbox, in the page.
 *
 * @fires status-change - The connection status changed; `detail.status` is a `ConnectionStatus`.
 * @fires session-created - A session was created for this element; `detail.sessionId`.
 * @fires session-recreated - The session's shell was started again under its id; `detail.cwd`, `detail.restoredEnv`, `detail.reason`.
 * @fires exit - The shell exited; `detail.exitCode`, `detail.signal` (`detail.sessionId` is empty with a Cloudflare protocol).
 * @fires title-change - The shell set its title (OSC 0/2); `detail.title`.
 * @fires cwd-change - The shell reported a new working directory at its prompt (OSC 7); `detail.cwd`.
 * @fires command-change - A command typed here started (`detail.command`) or a prompt came back (no `command`).
 *
 * @slot status-end - Content at the end of the status bar (buttons, a link to docs).
 *
 * @csspart terminal - The box the terminal is drawn in.
 * @csspart status-bar - The status line under the terminal.
 * @csspart status-dot - The coloured dot in the status bar.
 * @csspart status-message - The status text.
 * @csspart keys-hint - "Esc then Tab leaves", shown while the terminal has keyboard focus from the keyboard.
 * @csspart restart-button - "Restart", shown after the shell exited.
 * @csspart reconnect-button - "Reconnect", shown after an error.
 * @csspart limit-notice - Shown when the sandbox has as many sessions as it may: what the user can do.
 * @csspart reuse-button - "Open an existing session", in the limit notice.
 * @csspart close-idle-button - "Close idle sessions", in the limit notice.
 *
 * @cssprop --sandbox-terminal-background - Terminal background colour.
 * @cssprop --sandbox-terminal-foreground - Terminal text colour.
 * @cssprop --sandbox-terminal-cursor - Cursor colour.
 * @cssprop --sandbox-terminal-selection - Selection colour.
 * @cssprop --sandbox-terminal-focus-ring - Outline of the terminal while it has focus.
 * @cssprop --sandbox-terminal-font-family - Terminal font (the `font-family` attribute wins).
 * @cssprop --sandbox-terminal-padding - Space around the terminal grid.
 * @cssprop --sandbox-terminal-border - Border of the element.
 * @cssprop --sandbox-terminal-border-radius - Corner radius of the element.
 * @cssprop --sandbox-terminal-status-background - Status bar background.
 * @cssprop --sandbox-terminal-status-foreground - Status bar text colour.
 * @cssprop --sandbox-terminal-ok-color - Status dot when connected.
 * @cssprop --sandbox-terminal-warning-color - Status dot while connecting.
 * @cssprop --sandbox-terminal-error-color - Status dot and text on errors.
 */
export class SandboxTerminal extends LitElement {
  static override styles = [xtermStyles, sandboxTerminalStyles];

  static override properties = {
    protocol: { type: String },
    url: { type: String },
    relay: { type: String },
    sandbox: { type: String },
    session: { type: String },
    persistKey: { type: String, attribute: 'persist-key' },
    token: { type: String },
    getToken: { attribute: false },
    readonly: { type: Boolean, reflect: true },
    theme: { type: String, reflect: true },
    fontSize: { type: Number, attribute: 'font-size' },
    fontFamily: { type: String, attribute: 'font-family' },
    screenReader: { type: Boolean, attribute: 'screen-reader' },
    copyOnSelect: { attribute: 'copy-on-select', converter: booleanDefaultTrue },
    reconnectPolicy: { attribute: false },
  };

  /** `sandbox-terminal` (default: our relay, with cursor resume and flow control), `cloudflare` or `cloudflare-1`. */
  declare protocol: TerminalProtocol;
  /** With a Cloudflare protocol: the Worker's terminal WebSocket URL (`wss://…`). */
  declare url: string | undefined;
  /** Base URL of the relay, e.g. `https://relay.example.com`. */
  declare relay: string;
  /** The sandbox id (chosen by the page; the sandbox starts on first use). */
  declare sandbox: string;
  /** Attach to this session id; without it the element creates a session (or reuses the `persist-key` one). */
  declare session: string | undefined;
  /**
   * Remember the session in `localStorage` under this key so a reload reattaches to the same shell. Elements with the
   * same key share one session.
   */
  declare persistKey: string | undefined;
  /** Bearer token for the relay. */
  declare token: string | undefined;
  /**
   * Returns a bearer token (or a promise of one); asked before every relay call and every (re)connection, so
   * short-lived tokens keep working. Takes precedence over `token`. A connection refused as unauthorized is retried
   * with a fresh token; with a fixed `token` it ends in an error state instead.
   */
  declare getToken: TokenProvider | undefined;
  /** Show the session without sending any input to it. */
  declare readonly: boolean;
  /** `dark`, `light` or `auto` (follows the site's own switch, a `dark`/`light` class or `data-theme` on `<html>`, then `prefers-color-scheme`). */
  declare theme: TerminalTheme;
  /** Font size in CSS pixels. */
  declare fontSize: number;
  /** Font family; defaults to `--sandbox-terminal-font-family`, then the platform's monospace fonts. */
  declare fontFamily: string | undefined;
  /** Turns on xterm's screen-reader mode (an accessible DOM mirror of the screen, output announced as it comes). */
  declare screenReader: boolean;
  /** Copy selected text to the clipboard as soon as it is selected (on by default; `copy-on-select="false"`). */
  declare copyOnSelect: boolean;
  /** Backoff between reconnection attempts (a property only); applies from the next connection the element makes. */
  declare reconnectPolicy: Partial<ReconnectPolicy> | undefined;

  readonly #status = new ConnectionStatusController(this);
  readonly #fit = new TerminalFitController(this);
  readonly #appearance = new AppearanceController(this, () => this.#fit.fit());
  readonly #keysHint = new KeysHintController(this, () => !this.readonly);
  readonly #session = new SessionConnectionController(this, {
    status: this.#status,
    terminal: () => this.#terminal,
    typeahead: () => this.#typeahead,
    onReady: ({ cwd }) => {
      this.#prompt?.resetCommandState();
      if (cwd) this.#prompt?.setCwd(cwd);
    },
    onNotice: (notice) => {
      this.#notice = notice;
      this.requestUpdate();
    },
  });
  /** The terminal is opened in this node, which outlives renders and DOM moves. */
  readonly #box = Object.assign(document.createElement('div'), { className: 'box' });
  readonly #encoder = new TextEncoder();
  #terminal: Terminal | undefined;
  #prompt: ShellPromptTracker | undefined;
  #keys: TerminalKeys | undefined;
  #typeahead = new TypeaheadBuffer();
  #title = '';
  #notice = '';
  #focusRequested = false;
  /** Bumped by every set-up and tear-down, so a set-up scheduled before a DOM move does nothing. */
  #generation = 0;

  constructor() {
    super();
    this.protocol = 'sandbox-terminal';
    this.relay = '';
    this.sandbox = '';
    this.readonly = false;
    this.theme = 'dark';
    this.fontSize = DEFAULT_FONT_SIZE_PX;
    this.screenReader = false;
    this.copyOnSelect = true;
  }

  /** The connection's current status. */
  get status(): ConnectionStatus {
    return this.#status.status;
  }

  /** The session this element shows, once known (given, remembered or created). */
  get sessionId(): string | undefined {
    return this.#session.sessionId;
  }

  /** The xterm.js `Terminal` while the element is connected to the document; a new one after each DOM move. */
  get terminal(): Terminal | undefined {
    return this.#terminal;
  }

  /**
   * The connection addon attached to the terminal, once a session is known: its events (`onOutput`,
   * `onScreenRestore`, …) are there for recording or testing what the terminal was given.
   */
  get connection(): RelayConnectionAddon | undefined {
    return this.#session.connection;
  }

  /** The title the shell last set (OSC 0/2). */
  get shellTitle(): string {
    return this.#title;
  }

  /** The working directory the shell reported at its last prompt (OSC 7). */
  get cwd(): string | undefined {
    return this.#prompt?.cwd;
  }

  /** True while a command typed here has not yet returned to a prompt. */
  get commandRunning(): boolean {
    return this.#prompt?.commandRunning ?? false;
  }

  /** The command line of the command typed here that is running, as read from the screen. */
  get runningCommand(): string | undefined {
    return this.#prompt?.command;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const generation = ++this.#generation;
    void this.updateComplete.then(() => {
      if (generation === this.#generation && this.isConnected) this.#setUp();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#tearDown();
  }

  /** Moves keyboard focus into the terminal (as soon as it exists, if it does not yet). */
  override focus(options?: FocusOptions): void {
    if (this.#terminal) this.#terminal.focus();
    else {
      this.#focusRequested = true;
      super.focus(options);
    }
  }

  /** Clears the screen and scrollback in this view (the shell is not told). */
  clear(): void {
    this.#terminal?.clear();
  }

  /** Connects again now, after an error or to skip the reconnection backoff. */
  reconnect(): void {
    const connection = this.#session.connection;
    if (connection && this.#status.status.state !== 'error') {
      connection.reconnect();
      return;
    }
    if (this.#terminal) void this.#session.connect();
  }

  /** Starts a new shell under the same session id (after `exit`); the screen clears when it is ready. */
  async restart(): Promise<void> {
    const { sandbox, sessionId, connection } = this.#session;
    // A Cloudflare Worker decides what a new connection gets: reconnecting is all the page can do.
    if (connection && !connection.sessionId) return this.reconnect();
    if (!sandbox || !sessionId) throw new Error('sandbox-terminal: no session to restart yet');
    this.#status.set(statuses.connecting('restarting the shell…'));
    connection?.expectRestart();
    try {
      await sandbox.restartSession(sessionId);
    } catch (error) {
      this.#status.set(statuses.error(connectionErrorFrom(error)));
      throw error;
    }
  }

  /**
   * Runs a command in this session through the relay, as an agent would: it appears in the terminal as it runs, and
   * the promise resolves to its result (exit code, stdout, stderr).
   */
  async exec(command: string, options: Omit<ExecOptions, 'session'> = {}): Promise<ExecResult> {
    const { sandbox, sessionId } = this.#session;
    if (this.protocol !== 'sandbox-terminal') throw new Error(`sandbox-terminal: exec() needs the sandbox-terminal protocol, not ${this.protocol}`);
    if (!sandbox || !sessionId) throw new Error('sandbox-terminal: no session yet; wait for status "connected"');
    return sandbox.exec(command, { ...options, session: sessionId });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (this.#terminal && changed.has('readonly')) {
      this.#terminal.options.disableStdin = this.readonly;
      if (this.#session.connection) this.#session.connection.readonly = this.readonly;
    }
    if (this.#terminal && changed.has('screenReader')) this.#terminal.options.screenReaderMode = this.screenReader;
    // Before render, so that the statuses the new connection sets belong to this update rather than scheduling more.
    if (this.#terminal && this.#session.outdated) this.#session.reconfigure();
  }

  protected override updated(): void {
    if (this.#terminal) this.#appearance.apply(this.#terminal);
  }

  protected override render() {
    const status = this.#status.status;
    const message = this.#notice ? `${this.#notice} · ${status.message}` : status.message;
    return html`
      <div part="terminal" class="terminal">${this.#box}${this.#session.renderLimitNotice()}</div>
      <span id="keys-help" class="visually-hidden">
        Terminal: Tab is sent to the shell. Press Escape then Tab to move on, Escape then Shift+Tab to go back.
        ${IS_MAC ? 'Command+V pastes.' : 'Control+V pastes; Control+Alt+V sends a literal Control+V.'}
      </span>
      <div part="status-bar" class="status-bar" data-state=${status.state} ?data-input-dropped=${status.inputDropped}>
        <span part="status-dot" class="dot"></span>
        <span part="status-message" class="message" role="status" aria-live="polite" title=${status.error ? errorDetail(status) : message}>${message}</span>
        ${this.#keysHint.shown ? html`<span part="keys-hint" class="keys-hint" aria-hidden="true"><kbd>Esc</kbd> then <kbd>Tab</kbd> leaves</span>` : nothing}
        ${status.state === 'exited'
          ? html`<button part="restart-button" @click=${() => this.restart().catch(() => undefined)}>Restart</button>`
          : nothing}
        ${status.state === 'error' || status.state === 'closed'
          ? html`<button part="reconnect-button" @click=${() => this.reconnect()}>Reconnect</button>`
          : nothing}
        <slot name="status-end"></slot>
      </div>
    `;
  }

  #setUp(): void {
    const terminal = new Terminal({
      scrollback: SCROLLBACK_LINES,
      disableStdin: this.readonly,
      screenReaderMode: this.screenReader,
      allowProposedApi: false,
      lineHeight: LINE_HEIGHT,
      ...this.#appearance.terminalOptions(),
    });
    this.#terminal = terminal;
    terminal.loadAddon(new WebLinksAddon());
    this.#keys = new TerminalKeys(terminal, { isMac: IS_MAC });
    this.#prompt = new ShellPromptTracker(terminal, {
      onCwd: (cwd) => emit(this, 'cwd-change', { cwd }),
      onCommand: (command) => emit(this, 'command-change', command ? { command } : {}),
    });
    terminal.onTitleChange((title) => {
      this.#title = title;
      emit(this, 'title-change', { title });
    });
    terminal.onSelectionChange(() => this.#copySelection(terminal));
    terminal.onData((data) => this.#handleTyping(data));
    terminal.open(this.#box);
    terminal.textarea?.setAttribute('aria-describedby', 'keys-help');
    this.#appearance.apply(terminal);
    this.#fit.attach(terminal, this.#box);
    if (this.#focusRequested) {
      this.#focusRequested = false;
      terminal.focus();
    }
    void this.#session.connect();
  }

  #tearDown(): void {
    this.#generation++;
    this.#session.close();
    this.#fit.detach();
    this.#keys?.dispose();
    this.#keys = undefined;
    this.#prompt?.dispose();
    this.#prompt = undefined;
    this.#terminal?.dispose();
    this.#terminal = undefined;
    this.#typeahead = new TypeaheadBuffer();
    this.#status.set(statuses.closed());
  }

  #handleTyping(data: string): void {
    if (this.#notice) {
      this.#notice = '';
      this.requestUpdate();
    }
    this.#keysHint.hide();
    if (this.#session.connection || this.readonly) return;
    // No connection yet: held for a moment (the session is being created), or said to be dropped.
    if (this.#status.status.state !== 'error' && this.#typeahead.push(this.#encoder.encode(data))) return;
    this.#status.set(withInputDropped(this.#status.status));
  }

  #copySelection(terminal: Terminal): void {
    const text = terminal.getSelection();
    if (!this.copyOnSelect || !text) return;
    // Refused without a user gesture or permission; the selection is still there for Ctrl+C / the context menu.
    navigator.clipboard?.writeText(text).catch(() => undefined);
  }
}
