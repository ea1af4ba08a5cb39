import { html, LitElement, nothing, type PropertyValues } from 'lit';
import type { ITheme } from '@xterm/xterm';
import { getSandbox, SandboxError, type ExecOptions, type ExecResult, type Sandbox } from '@sandbox-terminal/client';
import { statuses, withInputDropped, type ConnectionStatus } from './connection-status.ts';
import { ColorSchemeController, type ColorScheme } from './controllers/color-scheme-controller.ts';
import { ConnectionStatusController } from './controllers/connection-status-controller.ts';
import { TerminalFitController } from './controllers/fit-controller.ts';
import { emit } from './events.ts';
import { RelayConnectionAddon, type ReconnectPolicy, type TerminalProtocol } from './relay-connection-addon.ts';
import { sandboxTerminalStyles } from './sandbox-terminal.styles.ts';
import { sandboxOptionsFor, type TokenProvider } from './relay-auth.ts';
import { isSessionRef, PersistedRecord } from './session-store.ts';
import { ShellIntegration } from './shell-integration.ts';
import { xtermTheme } from './terminal-theme.ts';
import { Terminal, WebLinksAddon } from './xterm-modules.ts';
import { xtermStyles } from './xterm.styles.ts';

export type TerminalTheme = 'dark' | 'light' | 'auto';

/** Lines of scrollback each terminal keeps in the browser. */
const SCROLLBACK_LINES = 5_000;
const DEFAULT_FONT_SIZE_PX = 14;
/** At xterm's default of 1.0, the DOM renderer clips underscores with common monospace fonts (`a_b` reads `a b`). */
const LINE_HEIGHT = 1.15;

/** `copy-on-select="false"` turns the default-on behaviour off; a bare attribute or any other value keeps it on. */
const booleanDefaultTrue = {
  fromAttribute: (value: string | null) => value === null || value !== 'false',
  toAttribute: (value: boolean) => (value ? '' : 'false'),
};

/**
 * A live terminal on a session of a sandbox, through a sandbox-terminal relay.
 *
 * With `protocol="cloudflare"` it talks instead to a Cloudflare Worker route that calls `sandbox.terminal(request)`
 * (Cloudflare Sandbox SDK v0.x terminal protocol), given by the `url` attribute: the Worker decides the sandbox and
 * session (`relay`, `sandbox`, `session`, `persist-key` and `token` are not used), no subprotocol is offered,
 * keystrokes go as binary frames and size changes as `{"type":"resize","cols","rows"}`, and the screen is cleared on
 * every (re)connect because such a server replays its buffer. There is no cursor resume, no flow control, no `exec()`;
 * `restart()` reconnects, and whether that starts a new shell is up to the Worker.
 *
 * @tag sandbox-terminal
 * @summary A real bash shell in an isolated sandbox, in the page.
 *
 * @fires status-change - The connection status changed; `detail.status` is a `ConnectionStatus`.
 * @fires session-created - A session was created for this element; `detail.sessionId`.
 * @fires session-recreated - The sandbox had been asleep and the session was restored; `detail.cwd`, `detail.restoredEnv`.
 * @fires exit - The shell exited; `detail.exitCode`, `detail.signal` (`detail.sessionId` is empty with `protocol="cloudflare"`).
 * @fires title-change - The shell set its title (OSC 0/2); `detail.title`.
 * @fires cwd-change - The shell reported a new working directory at its prompt (OSC 7); `detail.cwd`.
 *
 * @slot status-end - Content at the end of the status bar (buttons, a link to docs).
 *
 * @csspart terminal - The box the terminal is drawn in.
 * @csspart status-bar - The status line under the terminal.
 * @csspart status-dot - The coloured dot in the status bar.
 * @csspart status-message - The status text.
 * @csspart restart-button - "Restart", shown after the shell exited.
 * @csspart reconnect-button - "Reconnect", shown after an error.
 *
 * @cssprop --sandbox-terminal-background - Terminal background colour.
 * @cssprop --sandbox-terminal-foreground - Terminal text colour.
 * @cssprop --sandbox-terminal-cursor - Cursor colour.
 * @cssprop --sandbox-terminal-selection - Selection colour.
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

  /** `sandbox-terminal` (default: our relay, with cursor resume and flow control) or `cloudflare` (see above). */
  declare protocol: TerminalProtocol;
  /** With `protocol="cloudflare"`: the Worker's terminal WebSocket URL (`wss://…`). */
  declare url: string | undefined;
  /** Base URL of the relay, e.g. `https://relay.example.com`. */
  declare relay: string;
  /** The sandbox id (chosen by the page; the sandbox starts on first use). */
  declare sandbox: string;
  /** Attach to this session id; without it the element creates a session (or reuses the `persist-key` one). */
  declare session: string | undefined;
  /** Remember the session in `localStorage` under this key so a reload reattaches to the same shell. */
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
  /** `dark`, `light` or `auto` (follows `prefers-color-scheme`). */
  declare theme: TerminalTheme;
  /** Font size in CSS pixels. */
  declare fontSize: number;
  /** Font family; defaults to `--sandbox-terminal-font-family`, then the platform's monospace fonts. */
  declare fontFamily: string | undefined;
  /** Turns on xterm's screen-reader mode (an accessible DOM mirror of the screen). */
  declare screenReader: boolean;
  /** Copy selected text to the clipboard as soon as it is selected (on by default; `copy-on-select="false"`). */
  declare copyOnSelect: boolean;
  /** Backoff between reconnection attempts (a property only); applies from the next connection the element makes. */
  declare reconnectPolicy: Partial<ReconnectPolicy> | undefined;

  readonly #status = new ConnectionStatusController(this);
  readonly #fit = new TerminalFitController(this);
  readonly #colorScheme = new ColorSchemeController(this);
  /** The terminal is opened in this node, which outlives renders and DOM moves. */
  readonly #box = Object.assign(document.createElement('div'), { className: 'box' });
  #terminal: Terminal | undefined;
  #shell: ShellIntegration | undefined;
  #connection: RelayConnectionAddon | undefined;
  #sandboxClient: Sandbox | undefined;
  #sessionId: string | undefined;
  #title = '';
  #notice = '';
  #appliedTheme = '';
  /** Bumped by every set-up and tear-down, so an await that outlived its set-up does nothing. */
  #generation = 0;
  /** The configuration the current connection was made for; a change reconnects. */
  #connectionKey = '';

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
    return this.#sessionId;
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
    return this.#connection;
  }

  /** The title the shell last set (OSC 0/2). */
  get shellTitle(): string {
    return this.#title;
  }

  /** The working directory the shell reported at its last prompt (OSC 7). */
  get cwd(): string | undefined {
    return this.#shell?.cwd;
  }

  /** True while a command typed here has not yet returned to a prompt. */
  get commandRunning(): boolean {
    return this.#shell?.commandRunning ?? false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const generation = ++this.#generation;
    void this.updateComplete.then(() => {
      if (generation === this.#generation && this.isConnected) this.#setUp(generation);
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#tearDown();
  }

  /** Moves keyboard focus into the terminal. */
  override focus(options?: FocusOptions): void {
    if (this.#terminal) this.#terminal.focus();
    else super.focus(options);
  }

  /** Clears the screen and scrollback in this view (the shell is not told). */
  clear(): void {
    this.#terminal?.clear();
  }

  /** Connects again now, after an error or to skip the reconnection backoff. */
  reconnect(): void {
    if (this.#connection && this.#status.status.state !== 'error') {
      this.#connection.reconnect();
      return;
    }
    if (this.#terminal) void this.#connectSession(++this.#generation);
  }

  /** Starts a new shell under the same session id (after `exit`); the screen clears when it is ready. */
  async restart(): Promise<void> {
    if (this.protocol === 'cloudflare') {
      this.reconnect();
      return;
    }
    const sandbox = this.#sandboxClient;
    const sessionId = this.#sessionId;
    if (!sandbox || !sessionId) throw new Error('sandbox-terminal: no session to restart yet');
    this.#status.set(statuses.connecting('restarting the shell…'));
    this.#connection?.expectRestart();
    try {
      await sandbox.restartSession(sessionId);
    } catch (error) {
      this.#status.set(statuses.error(errorCode(error), errorMessage(error)));
      throw error;
    }
  }

  /**
   * Runs a command in this session through the relay, as an agent would: it appears in the terminal as it runs, and
   * the promise resolves to its result (exit code, stdout, stderr).
   */
  async exec(command: string, options: Omit<ExecOptions, 'session'> = {}): Promise<ExecResult> {
    if (this.protocol === 'cloudflare') throw new Error('sandbox-terminal: exec() needs the sandbox-terminal protocol');
    const sandbox = this.#sandboxClient;
    const sessionId = this.#sessionId;
    if (!sandbox || !sessionId) throw new Error('sandbox-terminal: no session yet; wait for status "connected"');
    return sandbox.exec(command, { ...options, session: sessionId });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    this.dataset.scheme = this.#scheme();
    if (this.#terminal && changed.has('readonly')) {
      this.#terminal.options.disableStdin = this.readonly;
      if (this.#connection) this.#connection.readonly = this.readonly;
    }
    if (this.#terminal && changed.has('screenReader')) this.#terminal.options.screenReaderMode = this.screenReader;
  }

  protected override updated(): void {
    if (!this.#terminal) return;
    this.#applyAppearance(this.#terminal);
    if (this.#connectionKey && this.#configurationKey() !== this.#connectionKey) {
      if (this.session !== this.#sessionId) this.#sessionId = undefined;
      void this.#connectSession(++this.#generation);
    }
  }

  protected override render() {
    const status = this.#status.status;
    const message = this.#notice ? `${this.#notice} · ${status.message}` : status.message;
    return html`
      <div part="terminal" class="terminal">${this.#box}</div>
      <div part="status-bar" class="status-bar" data-state=${status.state} ?data-input-dropped=${status.inputDropped}>
        <span part="status-dot" class="dot"></span>
        <span part="status-message" class="message" role="status" aria-live="polite" title=${message}>${message}</span>
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

  #setUp(generation: number): void {
    const terminal = new Terminal({
      scrollback: SCROLLBACK_LINES,
      disableStdin: this.readonly,
      screenReaderMode: this.screenReader,
      allowProposedApi: false,
      fontSize: this.fontSize,
      fontFamily: this.#fontFamily(),
      lineHeight: LINE_HEIGHT,
      theme: this.#xtermTheme(),
    });
    this.#terminal = terminal;
    this.#appliedTheme = '';
    terminal.loadAddon(new WebLinksAddon());
    this.#shell = new ShellIntegration(terminal, (cwd) => emit(this, 'cwd-change', { cwd }));
    terminal.onTitleChange((title) => {
      this.#title = title;
      emit(this, 'title-change', { title });
    });
    terminal.onSelectionChange(() => this.#copySelection(terminal));
    terminal.onData(() => this.#handleTyping());
    terminal.open(this.#box);
    this.#applyAppearance(terminal);
    this.#fit.attach(terminal, this.#box);
    void this.#connectSession(generation);
  }

  #tearDown(): void {
    this.#generation++;
    this.#closeConnection();
    this.#fit.detach();
    this.#shell?.dispose();
    this.#shell = undefined;
    this.#terminal?.dispose();
    this.#terminal = undefined;
    this.#status.set(statuses.closed());
  }

  #closeConnection(): void {
    this.#status.unfollow();
    this.#connection?.dispose();
    this.#connection = undefined;
    this.#connectionKey = '';
  }

  /** Finds the session to show (given, remembered or new) and attaches to it. */
  async #connectSession(generation: number, replacing?: string): Promise<void> {
    this.#closeConnection();
    this.#connectionKey = this.#configurationKey();
    if (this.protocol === 'cloudflare') {
      this.#sandboxClient = undefined;
      this.#sessionId = undefined;
      if (this.url) this.#attachCloudflare(this.url);
      else this.#status.set(statuses.idle('set the url attribute to connect'));
      return;
    }
    if (!this.relay || !this.sandbox) {
      this.#status.set(statuses.idle('set the relay and sandbox attributes to connect'));
      return;
    }
    const sandbox = (this.#sandboxClient = getSandbox(this.relay, this.sandbox, sandboxOptionsFor(this)));
    const remembered = this.#persisted();
    let sessionId = this.session ?? this.#sessionId;
    const fromStorage = sessionId === undefined ? remembered?.read()?.sessionId : undefined;
    sessionId ??= fromStorage;
    if (sessionId === undefined) {
      this.#status.set(statuses.connecting('creating a session…'));
      try {
        const terminal = this.#terminal;
        sessionId = await sandbox.createSession(terminal ? { cols: terminal.cols, rows: terminal.rows } : {});
      } catch (error) {
        if (generation === this.#generation) this.#status.set(statuses.error(errorCode(error), errorMessage(error)));
        return;
      }
      if (generation !== this.#generation) return;
      this.#sessionId = sessionId;
      remembered?.write({ sessionId });
      emit(this, 'session-created', { sessionId, sandbox: this.sandbox, ...(replacing ? { replaces: replacing } : {}) });
    }
    this.#sessionId = sessionId;
    this.#attach(sandbox, sessionId, generation, fromStorage !== undefined);
  }

  #attach(sandbox: Sandbox, sessionId: string, generation: number, fromStorage: boolean): void {
    const terminal = this.#terminal;
    if (!terminal) return;
    const connection = new RelayConnectionAddon({
      endpoint: sandbox,
      sessionId,
      readonly: this.readonly,
      ...(this.reconnectPolicy ? { reconnect: this.reconnectPolicy } : {}),
    });
    this.#connection = connection;
    this.#status.follow(connection);
    connection.onReady(({ cwd }) => {
      this.#shell?.resetCommandState();
      if (cwd) this.#shell?.setCwd(cwd);
      this.#persisted()?.write({ sessionId });
    });
    connection.onSessionRecreated(({ cwd, restoredEnv }) => emit(this, 'session-recreated', { sessionId, cwd, restoredEnv }));
    connection.onExit(({ exitCode, signal }) => emit(this, 'exit', { sessionId, exitCode, signal }));
    connection.onError(({ code }) => {
      // A remembered id can expire on the relay; say so and start over rather than leave a dead terminal.
      if (code !== 'SESSION_NOT_FOUND' || !fromStorage || generation !== this.#generation) return;
      this.#persisted()?.clear();
      this.#sessionId = undefined;
      this.#notice = `the remembered session ${shortId(sessionId)} no longer exists: started a new one`;
      void this.#connectSession(++this.#generation, sessionId);
    });
    terminal.loadAddon(connection);
  }

  /** The Worker decides the session: no client SDK, nothing to remember. */
  #attachCloudflare(url: string): void {
    const terminal = this.#terminal;
    if (!terminal) return;
    const connection = new RelayConnectionAddon({
      protocol: 'cloudflare',
      url,
      readonly: this.readonly,
      ...(this.reconnectPolicy ? { reconnect: this.reconnectPolicy } : {}),
    });
    this.#connection = connection;
    this.#status.follow(connection);
    connection.onExit(({ exitCode, signal }) => emit(this, 'exit', { sessionId: '', exitCode, signal }));
    terminal.loadAddon(connection);
  }

  #handleTyping(): void {
    if (this.#notice) {
      this.#notice = '';
      this.requestUpdate();
    }
    // Without a connection there is nothing to send to: say so instead of swallowing the keys.
    if (!this.#connection && !this.readonly) this.#status.set(withInputDropped(this.#status.status));
  }

  #copySelection(terminal: Terminal): void {
    const text = terminal.getSelection();
    if (!this.copyOnSelect || !text) return;
    // Refused without a user gesture or permission; the selection is still there for Ctrl+C / the context menu.
    navigator.clipboard?.writeText(text).catch(() => undefined);
  }

  #persisted(): PersistedRecord<{ sessionId: string }> | undefined {
    if (!this.persistKey || this.session) return undefined;
    return new PersistedRecord('session', this.persistKey, { relay: this.relay, sandbox: this.sandbox }, isSessionRef);
  }

  #configurationKey(): string {
    return JSON.stringify([this.protocol, this.url ?? null, this.relay, this.sandbox, this.session ?? null, this.token ?? null, Boolean(this.getToken), this.persistKey ?? null]);
  }

  #scheme(): ColorScheme {
    if (this.theme === 'light' || this.theme === 'dark') return this.theme;
    return this.#colorScheme.preferred;
  }

  #applyAppearance(terminal: Terminal): void {
    const theme = this.#xtermTheme();
    const key = JSON.stringify(theme);
    if (key !== this.#appliedTheme) {
      this.#appliedTheme = key;
      terminal.options.theme = theme;
    }
    const fontFamily = this.#fontFamily();
    if (terminal.options.fontSize !== this.fontSize || terminal.options.fontFamily !== fontFamily) {
      terminal.options.fontSize = this.fontSize;
      terminal.options.fontFamily = fontFamily;
      this.#fit.fit();
    }
  }

  #xtermTheme(): ITheme {
    return xtermTheme(getComputedStyle(this), this.#scheme());
  }

  #fontFamily(): string {
    return this.fontFamily || getComputedStyle(this).getPropertyValue('--_font-family').trim() || 'monospace';
  }
}

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

function errorCode(error: unknown): string {
  return error instanceof SandboxError ? error.code : 'NETWORK';
}

function errorMessage(error: unknown): string {
  if (error instanceof SandboxError) return error.message;
  return error instanceof Error ? `cannot reach the relay (${error.message})` : String(error);
}
