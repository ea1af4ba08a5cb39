import { css } from 'lit';

/** Quiet by default: the site's own font and colours (currentColor), so the controls fit any docs theme. */
export const blockControlsStyles = css`
  :host {
    display: block;
    margin: -0.5em 0 1em;
    font: inherit;
    font-size: var(--sandbox-run-font-size, 0.85em);
    color: inherit;
  }
  .bar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em;
  }
  button {
    font: inherit;
    color: inherit;
    cursor: pointer;
    border: 1px solid color-mix(in srgb, currentColor 35%, transparent);
    border-radius: var(--sandbox-run-radius, 6px);
    background: color-mix(in srgb, currentColor 6%, transparent);
    padding: 0.2em 0.8em;
    line-height: 1.6;
  }
  button:hover {
    background: color-mix(in srgb, currentColor 14%, transparent);
  }
  button:focus-visible {
    outline: 2px solid var(--sandbox-run-accent, #3b82f6);
    outline-offset: 1px;
  }
  button.primary {
    border-color: var(--sandbox-run-accent, #3b82f6);
    background: var(--sandbox-run-accent, #3b82f6);
    color: var(--sandbox-run-accent-text, #fff);
  }
  button[disabled] {
    opacity: 0.55;
    cursor: default;
  }
  .status {
    opacity: 0.85;
  }
  .status[data-tone='ok'] {
    color: var(--sandbox-run-ok, #15803d);
    opacity: 1;
  }
  .status[data-tone='bad'] {
    color: var(--sandbox-run-error, #b91c1c);
    opacity: 1;
  }
  .check {
    border-radius: 999px;
    padding: 0.05em 0.7em;
    border: 1px solid color-mix(in srgb, currentColor 30%, transparent);
  }
  .check[data-state='passed'] {
    color: var(--sandbox-run-ok, #15803d);
    border-color: currentColor;
  }
  pre {
    margin: 0.5em 0 0;
    padding: 0.6em 0.8em;
    max-height: 16em;
    overflow: auto;
    border-radius: var(--sandbox-run-radius, 6px);
    background: color-mix(in srgb, currentColor 7%, transparent);
    font-family: var(--sandbox-run-mono, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace);
    font-size: 0.95em;
    white-space: pre-wrap;
    word-break: break-word;
  }
`;
