import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ITheme, Terminal } from '@xterm/xterm';
import { xtermTheme, type TerminalTheme } from '../terminal-theme.ts';
import { ColorSchemeController, type ColorScheme } from './color-scheme-controller.ts';

export interface AppearanceHost extends ReactiveControllerHost, HTMLElement {
  readonly theme: TerminalTheme;
  readonly fontSize: number;
  readonly fontFamily: string | undefined;
}

/**
 * What the terminal looks like: its scheme (`theme`, or for `auto` the page's), the xterm theme built from the
 * element's resolved custom properties, and its font. xterm takes colours and fonts as options, not CSS, so they are
 * handed over again whenever what they resolve to changes.
 */
export class AppearanceController implements ReactiveController {
  readonly #host: AppearanceHost;
  readonly #colorScheme: ColorSchemeController;
  readonly #onFontChange: () => void;
  /** The theme last given to the terminal, so that an unchanged one is not given again (xterm redraws on each). */
  #applied = '';

  /** `onFontChange`: the font changed the cell size, so the terminal needs fitting again. */
  constructor(host: AppearanceHost, onFontChange: () => void) {
    this.#host = host;
    this.#colorScheme = new ColorSchemeController(host);
    this.#onFontChange = onFontChange;
    host.addController(this);
  }

  get scheme(): ColorScheme {
    const { theme } = this.#host;
    return theme === 'light' || theme === 'dark' ? theme : this.#colorScheme.preferred;
  }

  /** The options a new terminal starts with. */
  terminalOptions(): { theme: ITheme; fontSize: number; fontFamily: string } {
    this.#applied = '';
    return { theme: this.#theme(), fontSize: this.#host.fontSize, fontFamily: this.#fontFamily() };
  }

  /** Brings `terminal` to the element's current theme and font. */
  apply(terminal: Terminal): void {
    const theme = this.#theme();
    const key = JSON.stringify(theme);
    if (key !== this.#applied) {
      this.#applied = key;
      terminal.options.theme = theme;
    }
    const fontFamily = this.#fontFamily();
    if (terminal.options.fontSize !== this.#host.fontSize || terminal.options.fontFamily !== fontFamily) {
      terminal.options.fontSize = this.#host.fontSize;
      terminal.options.fontFamily = fontFamily;
      this.#onFontChange();
    }
  }

  hostUpdate(): void {
    this.#host.dataset.scheme = this.scheme;
  }

  #theme(): ITheme {
    return xtermTheme(getComputedStyle(this.#host), this.scheme);
  }

  #fontFamily(): string {
    return this.#host.fontFamily || getComputedStyle(this.#host).getPropertyValue('--_font-family').trim() || 'monospace';
  }
}
