import type { ITheme } from '@xterm/xterm';
import type { ColorScheme } from './controllers/color-scheme-controller.ts';

/**
 * xterm.js takes colours, not CSS: its theme is built from the element's resolved private custom properties
 * (`--_background`, …), which carry the public `--sandbox-terminal-*` values or the scheme's defaults.
 */
export function xtermTheme(style: CSSStyleDeclaration, scheme: ColorScheme): ITheme {
  const read = (name: string) => style.getPropertyValue(name).trim() || undefined;
  const theme: ITheme = {};
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
  return scheme === 'light' ? { ...theme, ...LIGHT_ANSI } : theme;
}

/** The 16 ANSI colours tuned for a light background (xterm's defaults are made for dark ones). */
const LIGHT_ANSI: ITheme = {
  black: '#24292f',
  red: '#cf222e',
  green: '#116329',
  yellow: '#7d4e00',
  blue: '#0550ae',
  magenta: '#8250df',
  cyan: '#1b7c83',
  white: '#6e7781',
  brightBlack: '#57606a',
  brightRed: '#a40e26',
  brightGreen: '#1a7f37',
  brightYellow: '#633c01',
  brightBlue: '#218bff',
  brightMagenta: '#a475f9',
  brightCyan: '#3192aa',
  brightWhite: '#8c959f',
};
