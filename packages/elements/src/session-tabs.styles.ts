import { css } from 'lit';

export const sessionTabsStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    height: 420px;
    min-height: 8em;
    box-sizing: border-box;
    border-radius: var(--session-tabs-border-radius, 6px);
    border: 1px solid var(--_border);
    overflow: hidden;
    background: var(--_bar-background);
    font: 13px/1.4 system-ui, sans-serif;
    color: var(--_bar-foreground);

    --_bar-background: var(--session-tabs-bar-background, #1f2229);
    --_bar-foreground: var(--session-tabs-bar-foreground, #a2a8b3);
    --_active-background: var(--session-tabs-active-background, var(--sandbox-terminal-background, #16181d));
    --_active-foreground: var(--session-tabs-active-foreground, #e6e8ec);
    --_accent: var(--session-tabs-accent, #f0c674);
    --_border: #2b2f37;
    --_ok: var(--sandbox-terminal-ok-color, #5fbf77);
    --_warn: var(--sandbox-terminal-warning-color, #e5b454);
    --_error: var(--sandbox-terminal-error-color, #ef6b6b);
  }

  :host([data-scheme='light']) {
    --_bar-background: var(--session-tabs-bar-background, #eceef1);
    --_bar-foreground: var(--session-tabs-bar-foreground, #57606a);
    --_active-background: var(--session-tabs-active-background, var(--sandbox-terminal-background, #fbfbfa));
    --_active-foreground: var(--session-tabs-active-foreground, #1f2328);
    --_accent: var(--session-tabs-accent, #3a6fd8);
    --_border: #d5d8dd;
    --_ok: var(--sandbox-terminal-ok-color, #1f883d);
    --_warn: var(--sandbox-terminal-warning-color, #9a6700);
    --_error: var(--sandbox-terminal-error-color, #cf222e);
  }

  :host([hidden]) {
    display: none;
  }

  .tab-bar {
    display: flex;
    align-items: stretch;
    gap: 2px;
    padding: 4px 4px 0;
    border-bottom: 1px solid var(--_border);
  }

  [role='tablist'] {
    position: relative;
    flex: 0 1 auto;
    display: flex;
    gap: 2px;
    min-width: 0;
    overflow-x: auto;
    scrollbar-width: thin;
    scrollbar-color: color-mix(in srgb, var(--_bar-foreground) 45%, transparent) transparent;
  }

  /* Tabs past the bar's width: the edge they hide behind fades, so it is plain that the bar scrolls. */
  [role='tablist'][data-more-after] {
    mask-image: linear-gradient(to right, #000 calc(100% - 2.5em), transparent);
  }

  [role='tablist'][data-more-before] {
    mask-image: linear-gradient(to left, #000 calc(100% - 2.5em), transparent);
  }

  [role='tablist'][data-more-before][data-more-after] {
    mask-image: linear-gradient(to right, transparent, #000 2.5em, #000 calc(100% - 2.5em), transparent);
  }

  [role='tab'] {
    position: relative;
    flex: none;
    display: flex;
    align-items: center;
    gap: 0.45em;
    min-width: 4.5em;
    max-width: min(16em, 70vw);
    padding: 0.3em 0.4em 0.3em 0.7em;
    border-radius: 5px 5px 0 0;
    cursor: pointer;
    user-select: none;
    white-space: nowrap;
  }

  [role='tab'][aria-selected='true'] {
    background: var(--_active-background);
    color: var(--_active-foreground);
    box-shadow: inset 0 2px 0 var(--_accent);
  }

  [role='tab']:focus-visible,
  button:focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: -2px;
  }

  .label {
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
  }

  .cwd {
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    opacity: 0.75;
    font-size: 0.9em;
  }

  @media (max-width: 480px) {
    .cwd {
      display: none;
    }
  }

  .dot {
    flex: none;
    width: 0.55em;
    height: 0.55em;
    border-radius: 50%;
    background: var(--_warn);
  }

  .dot[data-state='connected'] {
    background: var(--_ok);
  }

  .dot[data-state='unreachable'],
  .dot[data-state='error'],
  .dot[data-state='exited'],
  .dot[data-state='closed'] {
    background: var(--_error);
  }

  .dot[data-state='asleep'],
  .dot[data-state='paused'] {
    background: var(--_bar-foreground);
  }

  button {
    font: inherit;
    color: inherit;
    background: none;
    border: 0;
    border-radius: 4px;
    cursor: pointer;
    padding: 0 0.4em;
  }

  button:hover {
    background: color-mix(in srgb, currentColor 15%, transparent);
  }

  .close {
    opacity: 0.7;
  }

  .add {
    flex: none;
    font-size: 1.2em;
    padding: 0 0.6em;
  }

  .rename {
    font: inherit;
    width: 10em;
    padding: 0 0.2em;
    color: inherit;
    background: transparent;
    border: 1px solid var(--_accent);
    border-radius: 3px;
  }

  /* On a narrow bar the toolbar gives up its room before the tabs do. */
  .toolbar {
    flex: 0 1000 auto;
    margin-left: auto;
    min-width: 0;
    overflow: hidden;
    white-space: nowrap;
    display: flex;
    align-items: center;
    gap: 0.5em;
    padding: 0 0.4em;
  }

  .banner {
    display: flex;
    align-items: center;
    gap: 0.75em;
    padding: 0.35em 0.75em;
    border-bottom: 1px solid var(--_border);
  }

  .banner[part='confirm'] {
    color: var(--_active-foreground);
    background: color-mix(in srgb, var(--_error) 18%, var(--_bar-background));
  }

  .banner button {
    border: 1px solid var(--_border);
    padding: 0.05em 0.7em;
  }

  .panels {
    position: relative;
    flex: 1 1 auto;
    min-height: 0;
    background: var(--_active-background);
  }

  /* Every tab's terminal stays laid out at full size, so hidden ones keep receiving output at the right size. */
  .panels sandbox-terminal {
    position: absolute;
    inset: 0;
    height: auto;
    border: 0;
    border-radius: 0;
    visibility: hidden;
  }

  .panels sandbox-terminal.active {
    visibility: visible;
  }

  .empty {
    display: grid;
    place-items: center;
    height: 100%;
    color: var(--_bar-foreground);
  }
`;
