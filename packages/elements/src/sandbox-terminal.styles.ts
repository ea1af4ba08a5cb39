import { css, unsafeCSS } from 'lit';
import { DARK_BACKGROUND, LIGHT_BACKGROUND } from './terminal-theme.ts';

/**
 * Every colour and font comes from a public custom property with a default per scheme. The private `--_…` values
 * are what the element reads back (resolved) to build xterm's theme, which takes colours, not CSS.
 */
export const sandboxTerminalStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    position: relative;
    height: 360px;
    min-height: 6em;
    box-sizing: border-box;
    overflow: hidden;
    border-radius: var(--sandbox-terminal-border-radius, 6px);
    border: var(--sandbox-terminal-border, 1px solid var(--_border));
    background: var(--_background);
    color-scheme: dark;

    --_background: var(--sandbox-terminal-background, ${unsafeCSS(DARK_BACKGROUND)});
    --_foreground: var(--sandbox-terminal-foreground, #d7dae0);
    --_cursor: var(--sandbox-terminal-cursor, #f0c674);
    --_selection: var(--sandbox-terminal-selection, rgba(120, 150, 220, 0.4));
    --_focus-ring: var(--sandbox-terminal-focus-ring, #6cb6ff);
    --_border: #2b2f37;
    --_status-background: var(--sandbox-terminal-status-background, #1f2229);
    --_status-foreground: var(--sandbox-terminal-status-foreground, #a2a8b3);
    --_ok: var(--sandbox-terminal-ok-color, #5fbf77);
    --_warn: var(--sandbox-terminal-warning-color, #e5b454);
    --_error: var(--sandbox-terminal-error-color, #ef6b6b);
    --_font-family: var(
      --sandbox-terminal-font-family,
      ui-monospace, 'SFMono-Regular', 'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace
    );
  }

  :host([data-scheme='light']) {
    color-scheme: light;
    --_background: var(--sandbox-terminal-background, ${unsafeCSS(LIGHT_BACKGROUND)});
    --_foreground: var(--sandbox-terminal-foreground, #24292f);
    --_cursor: var(--sandbox-terminal-cursor, #3a6fd8);
    --_selection: var(--sandbox-terminal-selection, rgba(60, 110, 220, 0.25));
    --_focus-ring: var(--sandbox-terminal-focus-ring, #0a65c2);
    --_border: #d5d8dd;
    --_status-background: var(--sandbox-terminal-status-background, #f0f1f3);
    --_status-foreground: var(--sandbox-terminal-status-foreground, #57606a);
    --_ok: var(--sandbox-terminal-ok-color, #1f883d);
    --_warn: var(--sandbox-terminal-warning-color, #9a6700);
    --_error: var(--sandbox-terminal-error-color, #cf222e);
  }

  :host([hidden]) {
    display: none;
  }

  .terminal {
    position: relative;
    flex: 1 1 auto;
    min-height: 0;
    padding: var(--sandbox-terminal-padding, 6px 8px);
    background: var(--_background);
  }

  /* Which terminal gets the keys matters when a page has several: the one with focus says so. */
  :host(:focus-within) .terminal {
    outline: 2px solid var(--_focus-ring);
    outline-offset: -2px;
  }

  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
    border: 0;
  }

  .limit-notice {
    position: absolute;
    inset: 0;
    display: flex;
    flex-direction: column;
    align-items: center;
    justify-content: center;
    gap: 0.75em;
    padding: 1em;
    text-align: center;
    font: 14px/1.45 system-ui, sans-serif;
    color: var(--_foreground);
    background: var(--_background);
  }

  .limit-notice p {
    margin: 0;
    max-width: 36em;
  }

  .limit-notice .actions {
    display: flex;
    flex-wrap: wrap;
    justify-content: center;
    gap: 0.5em;
  }

  .limit-notice button {
    padding: 0.35em 0.9em;
  }

  .keys-hint {
    flex: none;
    opacity: 0.85;
    white-space: nowrap;
  }

  .keys-hint kbd {
    font: inherit;
    padding: 0 0.3em;
    border: 1px solid var(--_border);
    border-radius: 3px;
  }

  .box {
    width: 100%;
    height: 100%;
  }

  .xterm .xterm-viewport {
    background-color: var(--_background);
  }

  .status-bar {
    display: flex;
    align-items: center;
    gap: 0.5em;
    min-height: 1.9em;
    padding: 0 0.75em;
    font: 12px/1.4 system-ui, sans-serif;
    background: var(--_status-background);
    color: var(--_status-foreground);
    border-top: 1px solid var(--_border);
  }

  .dot {
    flex: none;
    width: 0.6em;
    height: 0.6em;
    border-radius: 50%;
    background: var(--_warn);
  }

  .status-bar[data-state='connected'] .dot {
    background: var(--_ok);
  }

  .status-bar[data-state='unreachable'] .dot,
  .status-bar[data-state='error'] .dot,
  .status-bar[data-state='exited'] .dot,
  .status-bar[data-state='closed'] .dot {
    background: var(--_error);
  }

  .status-bar[data-state='asleep'] .dot,
  .status-bar[data-state='paused'] .dot {
    background: var(--_status-foreground);
  }

  .message {
    flex: 1 1 auto;
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }

  .status-bar[data-state='unreachable'] .message,
  .status-bar[data-state='error'] .message,
  .status-bar[data-input-dropped] .message {
    color: var(--_error);
  }

  button {
    font: inherit;
    padding: 0.1em 0.7em;
    border-radius: 4px;
    border: 1px solid var(--_border);
    background: var(--_background);
    color: var(--_foreground);
    cursor: pointer;
  }

  button:focus-visible {
    outline: 2px solid var(--_cursor);
    outline-offset: 1px;
  }
`;
