import type { IDisposable, Terminal } from '@xterm/xterm';

/**
 * Escape, then Tab (or Shift+Tab) within this long, moves focus out of the terminal, as in CodeMirror and GitHub's
 * editors: Tab itself belongs to the shell (completion), so keyboard users need another way on.
 */
export const ESCAPE_THEN_TAB_MS = 1_000;

/** The keys the element takes for itself; everything else goes to the shell as xterm encodes it. */
export const TERMINAL_KEYS = {
  leave: 'Escape, then Tab (or Shift+Tab): move focus to the next (previous) part of the page',
  paste: 'Ctrl+V or Ctrl+Shift+V: paste (⌘V on macOS)',
  literalControlV: 'Ctrl+Alt+V: send a literal Ctrl+V to the program (⌃V on macOS)',
} as const;

const CONTROL_V = '\x16';
const ESCAPE = '\x1b';
const MODIFIER_KEYS = new Set(['Shift', 'Control', 'Alt', 'Meta', 'AltGraph', 'CapsLock']);

export interface TerminalKeysOptions {
  /** Ctrl+V stays a control character on macOS, where ⌘V pastes. */
  isMac?: boolean;
  /** Called when Escape-then-Tab lets focus leave the terminal. */
  onLeave?: (direction: 'forward' | 'backward') => void;
}

/**
 * The keys a page's terminal handles differently from a native one (see `TERMINAL_KEYS`). Installs xterm's one custom
 * key handler.
 *
 * At a shell prompt (the normal screen) an Escape is held for up to `ESCAPE_THEN_TAB_MS` before it is sent, so that
 * Escape-then-Tab leaves nothing behind: sent at once, it would wait in readline and turn the next key, typed when the
 * user comes back, into a Meta chord. Any other key sends it first, in order. Full-screen programs (the alternate
 * screen: vim, less) get their Escape at once.
 */
export class TerminalKeys implements IDisposable {
  readonly #terminal: Terminal;
  readonly #options: TerminalKeysOptions;
  /** When the last Escape was pressed; Tab after it (within the window) leaves. */
  #escapeAt: number | undefined;
  #heldEscape: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(terminal: Terminal, options: TerminalKeysOptions = {}) {
    this.#terminal = terminal;
    this.#options = options;
    terminal.attachCustomKeyEventHandler((event) => this.#handle(event));
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#sendHeldEscape();
    this.#terminal.attachCustomKeyEventHandler(() => true);
  }

  /** Returns false for the keys xterm must not turn into input. */
  #handle(event: KeyboardEvent): boolean {
    if (event.type !== 'keydown') return true;
    if (MODIFIER_KEYS.has(event.key)) return true;
    const now = performance.now();
    const escapeArmed = this.#escapeAt !== undefined && now - this.#escapeAt <= ESCAPE_THEN_TAB_MS;
    this.#escapeAt = undefined;
    if (isTab(event) && escapeArmed) {
      // xterm leaves the event alone, so the browser moves focus the way Tab always does (shadow roots included).
      this.#dropHeldEscape();
      this.#options.onLeave?.(event.shiftKey ? 'backward' : 'forward');
      return false;
    }
    this.#sendHeldEscape();
    if (event.key === 'Escape' && !event.ctrlKey && !event.altKey && !event.metaKey && !event.shiftKey) {
      this.#escapeAt = now;
      if (this.#terminal.buffer.active.type === 'normal') {
        this.#heldEscape = setTimeout(() => this.#sendHeldEscape(), ESCAPE_THEN_TAB_MS);
        return false;
      }
      return true;
    }
    if (event.code === 'KeyV' && event.ctrlKey && !event.metaKey && !this.#options.isMac) {
      if (event.altKey) {
        event.preventDefault();
        this.#terminal.input(CONTROL_V, true);
        return false;
      }
      // Not handled by xterm and not prevented: the browser pastes, and xterm's paste listener takes it from there.
      return false;
    }
    return true;
  }

  #sendHeldEscape(): void {
    if (this.#heldEscape === undefined) return;
    clearTimeout(this.#heldEscape);
    this.#heldEscape = undefined;
    if (!this.#disposed) this.#terminal.input(ESCAPE, true);
  }

  #dropHeldEscape(): void {
    if (this.#heldEscape !== undefined) clearTimeout(this.#heldEscape);
    this.#heldEscape = undefined;
  }
}

function isTab(event: KeyboardEvent): boolean {
  return event.key === 'Tab' && !event.ctrlKey && !event.altKey && !event.metaKey;
}
