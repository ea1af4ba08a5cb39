import { writePages } from '../shared/write-pages.mjs';

await writePages({
  first: new URL('src/content/docs/index.md', import.meta.url),
  second: new URL('src/content/docs/second.md', import.meta.url),
  frontMatter: (title) => `---\ntitle: ${title}\n---\n\n`,
  nextLink: '/second/',
  backLink: '/',
});
