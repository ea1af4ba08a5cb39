// The tutorial's two pages are the same Markdown in every generator (shared/tutorial.md, shared/second.md); each
// example's pages are written from them with that generator's front matter and links, so the sites cannot drift apart.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHARED = new URL('.', import.meta.url);

export async function writePages({ first, second, frontMatter, nextLink, backLink }) {
  const tutorial = await readFile(new URL('tutorial.md', SHARED), 'utf8');
  const again = await readFile(new URL('second.md', SHARED), 'utf8');
  await mkdir(dirname(fileURLToPath(first)), { recursive: true });
  await writeFile(first, `${frontMatter('Your first script')}${tutorial}\n[Next: the same shell on another page →](${nextLink})\n`);
  await writeFile(second, `${frontMatter('Still the same shell')}${again}\n[← Back](${backLink})\n`);
}
