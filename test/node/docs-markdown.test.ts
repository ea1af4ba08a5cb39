// Marking runnable blocks from Markdown: the fence words (fence-meta.ts) and the markdown-it and remark plugins, run
// through the real parsers the generators use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import MarkdownIt from 'markdown-it';
import rehypeStringify from 'rehype-stringify';
import remarkParse from 'remark-parse';
import remarkRehype from 'remark-rehype';
import { unified } from 'unified';
import { parseFenceMeta } from '@sandbox-terminal/docs';
import { runnableBlocks } from '@sandbox-terminal/docs/markdown-it';
import { remarkRunnableBlocks } from '@sandbox-terminal/docs/remark';

const MARKDOWN = [
  '```sh run output check="test -d /workspace/app" step=mkdir {1}',
  'mkdir -p /workspace/app',
  'cd /workspace/app && echo "<done>"',
  '```',
  '',
  "```python save-as=/workspace/app/main.py title='main.py'",
  'print("hi")',
  '```',
  '',
  '```sh',
  'echo not runnable',
  '```',
  '',
].join('\n');

describe('fence words', () => {
  it('reads run, output, check, step, timeout, save-as and setup, quoted or not, and leaves the rest to the generator', () => {
    assert.deepEqual(parseFenceMeta(' run output check="test -f \\"a b\\"" step=one timeout=30 {1,3} title="x"'), {
      attributes: { 'data-sandbox-run': '', 'data-sandbox-output': '', 'data-sandbox-check': 'test -f "a b"', 'data-sandbox-step': 'one', 'data-sandbox-timeout': '30' },
      rest: '{1,3} title="x"',
    });
    assert.deepEqual(parseFenceMeta("setup save-as='/workspace/my file.txt'"), { attributes: { 'data-sandbox-setup': '', 'data-sandbox-save-as': '/workspace/my file.txt' }, rest: '' });
    assert.equal(parseFenceMeta('title="runner" {2}'), undefined);
    assert.equal(parseFenceMeta(''), undefined);
  });
});

describe('the markdown-it plugin (VitePress)', () => {
  it('wraps marked fences with their words and exact code, and hands the generator its own meta', () => {
    const md = new MarkdownIt();
    const infos: string[] = [];
    const fence = md.renderer.rules.fence!;
    md.renderer.rules.fence = (tokens, index, options, env, self) => {
      infos.push(tokens[index]!.info);
      return fence(tokens, index, options, env, self);
    };
    md.use(runnableBlocks);
    const html = md.render(MARKDOWN);
    assert.deepEqual(infos, ['sh {1}', "python title='main.py'", 'sh']);
    assert.ok(html.includes('<div class="sandbox-runnable" data-sandbox-run="" data-sandbox-output="" data-sandbox-check="test -d /workspace/app" data-sandbox-step="mkdir" data-sandbox-code="mkdir -p /workspace/app\ncd /workspace/app &amp;&amp; echo &quot;&lt;done&gt;&quot;\n"><pre><code class="language-sh">'), html);
    assert.ok(html.includes('data-sandbox-save-as="/workspace/app/main.py" data-sandbox-code="print(&quot;hi&quot;)\n"'), html);
    assert.equal((html.match(/sandbox-runnable/g) ?? []).length, 2, 'an unmarked fence was wrapped');
  });
});

describe('the remark plugin (Docusaurus, Starlight)', () => {
  it('wraps marked code in a div with the words and the exact code; the highlighter still gets the rest of the meta', async () => {
    const metas: Array<string | null | undefined> = [];
    const file = await unified()
      .use(remarkParse)
      .use(remarkRunnableBlocks)
      .use(() => (tree) => {
        type Node = { type: string; meta?: string | null; children?: Node[] };
        for (const node of (tree as Node).children ?? []) metas.push(node.type === 'code' ? node.meta : node.children?.[0]?.meta);
      })
      .use(remarkRehype)
      .use(rehypeStringify)
      .process(MARKDOWN);
    const html = String(file);
    assert.deepEqual(metas, ['{1}', "title='main.py'", null]);
    assert.ok(html.includes('<div class="sandbox-runnable" data-sandbox-run="" data-sandbox-output="" data-sandbox-check="test -d /workspace/app" data-sandbox-step="mkdir" data-sandbox-code="mkdir -p /workspace/app\ncd /workspace/app &#x26;&#x26; echo &#x22;<done>&#x22;"><pre><code class="language-sh">'), html);
    assert.equal((html.match(/sandbox-runnable/g) ?? []).length, 2);
  });
});
