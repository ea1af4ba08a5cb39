import type { ITheme } from '@xterm/xterm';
import type { ColorScheme } from './controllers/color-scheme-controller.ts';

/** `dark`, `light`, or `auto`: the page's own scheme (see `ColorSchemeController`). */
export type TerminalTheme = 'dark' | 'light' | 'auto';

/** The 16 ANSI colours of a theme. */
export type AnsiPalette = Required<
  Pick<
    ITheme,
    | 'black' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'white'
    | 'brightBlack' | 'brightRed' | 'brightGreen' | 'brightYellow' | 'brightBlue' | 'brightMagenta' | 'brightCyan' | 'brightWhite'
  >
>;

/** The terminal's default backgrounds (`--sandbox-terminal-background` overrides them); the palettes are made for these. */
export const DARK_BACKGROUND = '#16181d';
export const LIGHT_BACKGROUND = '#fbfbfa';

/**
 * The ANSI colours on the dark background (#16181d). Every colour but `black` (a background colour there) has a
 * WCAG contrast of at least 4.5:1 on it; xterm's defaults do not (blue 3.6, magenta 3.9, bright black 3.1).
 */
export const DARK_ANSI: AnsiPalette = {
  black: '#3b4048',
  red: '#f07178',
  green: '#89d185',
  yellow: '#e5c07b',
  blue: '#6cb6ff',
  magenta: '#d2a8ff',
  cyan: '#56d4dd',
  white: '#c9d1d9',
  brightBlack: '#8b949e',
  brightRed: '#ff938a',
  brightGreen: '#a5e3a0',
  brightYellow: '#f2d58b',
  brightBlue: '#91cbff',
  brightMagenta: '#e2c5ff',
  brightCyan: '#8ee6ec',
  brightWhite: '#f0f3f6',
};

/**
 * The ANSI colours on the light background (#fbfbfa), every one at least 4.5:1 on it. "Bright" cannot mean lighter
 * here without becoming unreadable, so the bright colours are the same hues, a step apart.
 */
export const LIGHT_ANSI: AnsiPalette = {
  black: '#24292f',
  red: '#cf222e',
  green: '#116329',
  yellow: '#7d4e00',
  blue: '#0550ae',
  magenta: '#8250df',
  cyan: '#1b7c83',
  white: '#656d76',
  brightBlack: '#57606a',
  brightRed: '#a40e26',
  brightGreen: '#1a7f37',
  brightYellow: '#633c01',
  brightBlue: '#0a65c2',
  brightMagenta: '#6f42c1',
  brightCyan: '#0e6e77',
  brightWhite: '#5f6873',
};

/**
 * xterm.js takes colours, not CSS: its theme is built from the element's resolved private custom properties
 * (`--_background`, …), which carry the public `--sandbox-terminal-*` values or the scheme's defaults.
 */
export function xtermTheme(style: CSSStyleDeclaration, scheme: ColorScheme): ITheme {
  const read = (name: string) => style.getPropertyValue(name).trim() || undefined;
  const theme: ITheme = { ...(scheme === 'light' ? LIGHT_ANSI : DARK_ANSI) };
  const background = read('--_background');
  const foreground = read('--_foreground');
  const cursor = read('--_cursor');
  const selection = read('--_selection');
  if (background) theme.background = background;
  if (foreground) theme.foreground = foreground;
  if (cursor) {
    theme.cursor = cursor;
    theme.cursorAccent = background ?? '#000';
  }
  if (selection) theme.selectionBackground = selection;
  return theme;
}
