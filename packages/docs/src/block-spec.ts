/** What a marked code block asks for, read from its attributes (see fence-meta.ts for the Markdown side). */
export type BlockKind = 'command' | 'file' | 'setup-command' | 'setup-file';

export interface BlockSpec {
  kind: BlockKind;
  /** The exact text: the command(s) to run or the file's content. */
  code: string;
  /** `save-as`: the sandbox path a file block writes. */
  saveAs?: string;
  /** A command whose exit status 0 means the step is done (run after the block, and on load for a known sandbox). */
  check?: string;
  /** Show the output under the block (`output`). */
  inlineOutput: boolean;
  /** The name events carry (`step`); blocks without one are `block-1`, `block-2`… in page order. */
  step: string;
  /** `timeout` in seconds, as milliseconds. */
  timeoutMs?: number;
}

/** Elements a page marks as runnable: the attributes the Markdown plugins write, or the class for hand-written HTML. */
export const RUNNABLE_SELECTOR = '[data-sandbox-run], [data-sandbox-save-as], [data-sandbox-setup], .sandbox-run';

/** A block's longest allowed timeout attribute: an hour. */
const MAX_TIMEOUT_S = 3600;

/**
 * Reads a marked element. The text comes from `data-sandbox-code` when the generator's plugin wrote it (highlighters
 * split lines into elements without newlines between them), otherwise from the `<code>` (or the element) as written.
 */
export function readBlock(element: Element, index: number): BlockSpec {
  const attr = (name: string) => element.getAttribute(`data-sandbox-${name}`);
  const setup = attr('setup') !== null;
  const saveAs = attr('save-as') || undefined;
  const kind: BlockKind = setup ? (saveAs ? 'setup-file' : 'setup-command') : saveAs ? 'file' : 'command';
  const source = attr('code') ?? (element.querySelector('code') ?? element).textContent ?? '';
  const timeout = Number(attr('timeout'));
  return {
    kind,
    // Commands without trailing blank lines; files end with one newline, as text files do (remark drops it, markdown-it keeps it).
    code: kind === 'command' || kind === 'setup-command' ? source.replace(/\n+$/, '') : source === '' || source.endsWith('\n') ? source : `${source}\n`,
    ...(saveAs ? { saveAs } : {}),
    ...(attr('check') ? { check: attr('check')! } : {}),
    inlineOutput: attr('output') !== null,
    step: attr('step') || `block-${index + 1}`,
    ...(Number.isFinite(timeout) && timeout > 0 ? { timeoutMs: Math.min(timeout, MAX_TIMEOUT_S) * 1000 } : {}),
  };
}

/** A short, stable name for a piece of text (FNV-1a, 32 bits): which setup a sandbox has already run. */
export function textHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}
