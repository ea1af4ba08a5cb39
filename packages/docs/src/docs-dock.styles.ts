import { css } from 'lit';

export const docsDockStyles = css`
  :host {
    position: fixed;
    left: 0;
    right: 0;
    bottom: 0;
    z-index: var(--sandbox-dock-z-index, 100);
    display: none;
    flex-direction: column;
    height: var(--_height, 320px);
    max-height: 90vh;
    background: var(--sandbox-dock-background, #0f172a);
    color: var(--sandbox-dock-foreground, #e2e8f0);
    box-shadow: 0 -6px 24px rgb(0 0 0 / 0.25);
    font: 13px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif;
  }
  :host([open]) {
    display: flex;
  }
  .handle {
    height: 6px;
    cursor: ns-resize;
    background: var(--sandbox-dock-handle, #334155);
    flex: none;
    touch-action: none;
  }
  .handle:focus-visible {
    outline: 2px solid var(--sandbox-dock-accent, #60a5fa);
    outline-offset: -2px;
  }
  header {
    display: flex;
    align-items: center;
    gap: 0.75em;
    padding: 0.35em 0.75em;
    flex: none;
    border-bottom: 1px solid var(--sandbox-dock-handle, #334155);
  }
  .title {
    font-weight: 600;
    white-space: nowrap;
  }
  .info {
    flex: 1;
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    opacity: 0.85;
  }
  .notice {
    color: var(--sandbox-dock-notice, #fbbf24);
  }
  button {
    font: inherit;
    color: inherit;
    background: transparent;
    border: 1px solid var(--sandbox-dock-handle, #475569);
    border-radius: 5px;
    padding: 0.15em 0.7em;
    cursor: pointer;
  }
  button:hover {
    background: rgb(255 255 255 / 0.08);
  }
  button.danger {
    border-color: var(--sandbox-dock-danger, #f87171);
    color: var(--sandbox-dock-danger, #f87171);
  }
  .body {
    flex: 1;
    min-height: 0;
    display: flex;
  }
  sandbox-terminal {
    flex: 1;
    height: 100%;
    --sandbox-terminal-border: none;
    --sandbox-terminal-border-radius: 0;
  }
`;
