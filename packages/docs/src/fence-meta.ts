/**
 * The words a docs author writes after a fence's language to make it runnable, shared by the markdown-it and remark
 * plugins so every generator reads the same thing:
 *
 * ````md
 * ```sh run                                  a Run button; runs in the page's session
 * ```sh run output                           …and shows its output under the block
 * ```sh run check="test -d /workspace/app"   …and a step check after it runs
 * ```sh run step=install timeout=120         …a name for its events, a timeout in seconds
 * ```python save-as=/workspace/app.py        a Save button that writes the file
 * ```sh setup                                runs once per sandbox before the first block
 * ```python setup save-as=/workspace/lib.py  a file written by that setup
 * ````
 *
 * Each becomes a `data-sandbox-*` attribute of the same name on the rendered block (see block-spec.ts), which is also
 * how a plain HTML page marks one by hand.
 */

/** The meta words this library reads; everything else stays for the generator (titles, line highlights…). */
export const RUNNABLE_META_KEYS = ['run', 'output', 'check', 'step', 'timeout', 'save-as', 'setup'] as const;
export type RunnableMetaKey = (typeof RUNNABLE_META_KEYS)[number];

export interface FenceMeta {
  /** Our words, as data attributes: `{ 'data-sandbox-run': '', 'data-sandbox-check': 'test …' }`. */
  attributes: Record<string, string>;
  /** The meta with our words taken out, for the generator's own parsing. */
  rest: string;
}

/** `key`, `key=value`, `key="value with spaces"` or `key='…'`, separated by spaces. */
const TOKEN = /([A-Za-z][\w-]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']+))?|\S+/g;

/** Reads our words out of a fence's meta (the info string after the language); `undefined` when it has none. */
export function parseFenceMeta(meta: string | null | undefined): FenceMeta | undefined {
  if (!meta) return undefined;
  const attributes: Record<string, string> = {};
  const rest: string[] = [];
  for (const match of meta.matchAll(TOKEN)) {
    const [whole, key, raw] = match;
    if (key && (RUNNABLE_META_KEYS as readonly string[]).includes(key)) {
      attributes[`data-sandbox-${key}`] = raw === undefined ? '' : unquote(raw);
    } else {
      rest.push(whole);
    }
  }
  if (Object.keys(attributes).length === 0) return undefined;
  return { attributes, rest: rest.join(' ') };
}

function unquote(raw: string): string {
  if (raw.startsWith('"')) return raw.slice(1, -1).replace(/\\(.)/g, '$1');
  if (raw.startsWith("'")) return raw.slice(1, -1);
  return raw;
}

/** Escapes text for an HTML attribute value in double quotes. */
export function escapeAttribute(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
