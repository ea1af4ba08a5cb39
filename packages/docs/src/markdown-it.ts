import { escapeAttribute, parseFenceMeta } from './fence-meta.ts';

// The few markdown-it shapes this plugin touches, so the package does not depend on markdown-it's types. Methods, not
// function-typed properties: markdown-it's own rule type takes its full Token, of which these are a part.
interface FenceToken {
  info: string;
  content: string;
}
interface TokenRenderer {
  renderToken(tokens: FenceToken[], index: number, options: unknown): string;
}
interface FenceRules {
  fence?(tokens: FenceToken[], index: number, options: unknown, env: unknown, self: TokenRenderer): string;
}
type RenderRule = NonNullable<FenceRules['fence']>;
interface MarkdownItLike {
  renderer: { rules: FenceRules };
}

/**
 * markdown-it plugin (VitePress, or any markdown-it site): a fence with `run`, `save-as=…`, `setup`, `check=…`… after
 * its language (see fence-meta.ts) is rendered as the generator renders any fence, wrapped in a `<div>` carrying
 * those words as `data-sandbox-*` attributes and the exact code as `data-sandbox-code`. Our words are taken out of
 * the info string first, so the generator's own meta (titles, `{1,3}` line highlights) still works.
 *
 * ```js
 * markdown: { config: (md) => md.use(runnableBlocks) }
 * ```
 */
export function runnableBlocks(md: MarkdownItLike): void {
  const original: RenderRule = md.renderer.rules.fence ?? ((tokens, index, options, _env, self) => self.renderToken(tokens, index, options));
  md.renderer.rules.fence = (tokens, index, options, env, self) => {
    const token = tokens[index]!;
    const info = token.info.trim();
    const language = info.split(/\s+/, 1)[0] ?? '';
    const meta = parseFenceMeta(info.slice(language.length));
    if (!meta) return original(tokens, index, options, env, self);
    const saved = token.info;
    token.info = `${language} ${meta.rest}`.trim();
    let rendered: string;
    try {
      rendered = original(tokens, index, options, env, self);
    } finally {
      token.info = saved;
    }
    const attributes = Object.entries({ ...meta.attributes, 'data-sandbox-code': token.content })
      .map(([name, value]) => `${name}="${escapeAttribute(value)}"`)
      .join(' ');
    return `<div class="sandbox-runnable" ${attributes}>${rendered}</div>\n`;
  };
}

export default runnableBlocks;
