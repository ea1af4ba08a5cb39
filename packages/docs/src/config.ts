import type { TerminalTheme } from '@sandbox-terminal/elements/classes';

/** One step of a setup: a file to write or a command to run, in order. */
export type SetupStep = { kind: 'file'; path: string; content: string } | { kind: 'command'; command: string };

/** A site's or page's setup as an author writes it in the integration's options. */
export interface SetupConfig {
  /** Files to seed, by sandbox path (under /workspace). */
  files?: Record<string, string>;
  /** A command run after the files are written, in the page's session. */
  command?: string;
}

/**
 * What a docs site tells the runnable blocks; JSON, so an integration can write it into the page
 * (`<script type="application/json" data-sandbox-docs>`) at build time.
 */
export interface DocsConfig {
  /** The relay's base URL. */
  relay: string;
  /**
   * `guest` (default): every reader gets a sandbox of their own from the relay's guest mode. `sandbox`: everyone uses
   * the `sandbox` id (a development relay, or a site that passes `getToken`).
   */
  access?: 'guest' | 'sandbox';
  /** The sandbox id for `access: 'sandbox'`. */
  sandbox?: string;
  /** A relay template (`--template NAME=DIR`) new sandboxes start from. */
  template?: string;
  /** Runs once per sandbox before the first block, before any page's own setup blocks. */
  setup?: SetupConfig;
  /** Names the site in what the browser remembers (the session, the dock); default: the page's origin. */
  siteKey?: string;
  /** The docked terminal's theme; default `auto` (the element follows the site's dark-mode switch). */
  theme?: TerminalTheme;
}

/** Options only a script can give (not JSON). */
export interface DocsScriptOptions {
  /** Returns a token for `access: 'sandbox'` on a relay with a secret (a site with a backend). */
  getToken?: () => string | Promise<string>;
}

export type RunnableBlocksOptions = DocsConfig & DocsScriptOptions;

/** The attribute of the JSON script element integrations write. */
export const CONFIG_ATTRIBUTE = 'data-sandbox-docs';

/** The config the page carries, if any (the last element wins); malformed JSON is reported, not thrown. */
export function readPageConfig(root: ParentNode = document): Partial<DocsConfig> | undefined {
  const elements = root.querySelectorAll(`script[type="application/json"][${CONFIG_ATTRIBUTE}]`);
  const element = elements[elements.length - 1];
  if (!element?.textContent) return undefined;
  try {
    return JSON.parse(element.textContent) as Partial<DocsConfig>;
  } catch (error) {
    console.error(`sandbox-terminal docs: the ${CONFIG_ATTRIBUTE} script is not JSON (${(error as Error).message})`);
    return undefined;
  }
}

/** A site's setup as ordered steps: its files, then its command. */
export function setupSteps(setup: SetupConfig | undefined): SetupStep[] {
  if (!setup) return [];
  const files = Object.entries(setup.files ?? {}).map(([path, content]): SetupStep => ({ kind: 'file', path, content }));
  return setup.command ? [...files, { kind: 'command', command: setup.command }] : files;
}
