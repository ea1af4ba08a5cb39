import { parseFenceMeta } from './fence-meta.ts';

// The mdast shapes this plugin touches (code nodes and their parents), so the package does not depend on mdast types.
interface MdastNode {
  type: string;
  lang?: string | null;
  meta?: string | null;
  value?: string;
  children?: MdastNode[];
  data?: Record<string, unknown>;
}

/**
 * remark plugin (Docusaurus, Astro / Starlight, any unified pipeline): wraps each code node whose meta has `run`,
 * `save-as=…`, `setup`, `check=…`… (see fence-meta.ts) in a `<div>` with those words as `data-sandbox-*` attributes and
 * the exact code as `data-sandbox-code`, and leaves the rest of the meta for the generator's highlighter (Expressive
 * Code, Prism), which renders the code inside the div as it renders any other block.
 */
export function remarkRunnableBlocks() {
  return (tree: MdastNode): void => {
    visit(tree);
  };
}

function visit(parent: MdastNode): void {
  const children = parent.children;
  if (!children) return;
  for (const [index, node] of children.entries()) {
    if (node.type !== 'code') {
      visit(node);
      continue;
    }
    const meta = parseFenceMeta(node.meta);
    if (!meta) continue;
    node.meta = meta.rest || null;
    children[index] = {
      type: 'sandboxRunnable',
      data: { hName: 'div', hProperties: { className: ['sandbox-runnable'], ...meta.attributes, 'data-sandbox-code': node.value ?? '' } },
      children: [node],
    };
  }
}

export default remarkRunnableBlocks;
