import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * Shows how to leave the terminal (Escape, then Tab) while it has focus that came from the keyboard, until the user
 * types or leaves: a keyboard user who tabbed in needs it; a mouse user who clicked in does not. Screen readers get the
 * same from the terminal input's description.
 */
export class KeysHintController implements ReactiveController {
  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #wanted: () => boolean;
  #shown = false;
  #pointerDown = false;

  /** `wanted`: false where there is no input to leave (a read-only terminal). */
  constructor(host: ReactiveControllerHost & HTMLElement, wanted: () => boolean) {
    this.#host = host;
    this.#wanted = wanted;
    host.addController(this);
  }

  get shown(): boolean {
    return this.#shown;
  }

  hide(): void {
    this.#set(false);
  }

  hostConnected(): void {
    this.#host.addEventListener('pointerdown', this.#handlePointerDown, { capture: true });
    this.#host.addEventListener('focusin', this.#handleFocusIn);
    this.#host.addEventListener('focusout', this.#handleFocusOut);
  }

  hostDisconnected(): void {
    this.#host.removeEventListener('pointerdown', this.#handlePointerDown, { capture: true });
    this.#host.removeEventListener('focusin', this.#handleFocusIn);
    this.#host.removeEventListener('focusout', this.#handleFocusOut);
    this.#shown = false;
  }

  readonly #handlePointerDown = (): void => {
    this.#pointerDown = true;
  };

  readonly #handleFocusIn = (): void => {
    const fromKeyboard = !this.#pointerDown;
    this.#pointerDown = false;
    if (fromKeyboard && this.#wanted()) this.#set(true);
  };

  readonly #handleFocusOut = (): void => this.#set(false);

  #set(shown: boolean): void {
    if (shown === this.#shown) return;
    this.#shown = shown;
    this.#host.requestUpdate();
  }
}
