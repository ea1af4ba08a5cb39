import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { FitAddon } from '../xterm-modules.ts';
import type { Terminal } from '@xterm/xterm';

/**
 * Wait this long after the last size change before refitting: dragging a window edge fires many ResizeObserver
 * callbacks, and each resize the PTY receives makes full-screen programs redraw.
 */
export const FIT_DEBOUNCE_MS = 50;

/**
 * Keeps a terminal's rows and columns matched to the box it is drawn in. The terminal's own `onResize` then carries
 * the new size to the relay.
 */
export class TerminalFitController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  #fitAddon: FitAddon | undefined;
  #observer: ResizeObserver | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  /** Starts fitting `terminal` to `box` (the element it was opened in) and fits once now. */
  attach(terminal: Terminal, box: HTMLElement): void {
    this.detach();
    this.#fitAddon = new FitAddon();
    terminal.loadAddon(this.#fitAddon);
    this.#observer = new ResizeObserver(() => this.#schedule());
    this.#observer.observe(box);
    this.fit();
  }

  /** Fits now, unless the box is not laid out (hidden with `display: none`), where the fit would be 0 × 0. */
  fit(): void {
    const dimensions = this.#fitAddon?.proposeDimensions();
    if (!dimensions || !Number.isFinite(dimensions.cols) || !Number.isFinite(dimensions.rows)) return;
    if (dimensions.cols < 2 || dimensions.rows < 1) return;
    this.#fitAddon?.fit();
  }

  detach(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#observer?.disconnect();
    this.#observer = undefined;
    this.#fitAddon?.dispose();
    this.#fitAddon = undefined;
  }

  hostDisconnected(): void {
    this.detach();
  }

  #schedule(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.fit();
    }, FIT_DEBOUNCE_MS);
  }
}
