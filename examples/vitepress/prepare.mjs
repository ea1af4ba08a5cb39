import { writePages } from '../shared/write-pages.mjs';

await writePages({
  first: new URL('docs/index.md', import.meta.url),
  second: new URL('docs/second.md', import.meta.url),
  frontMatter: (title) => `# ${title}\n\n`,
  nextLink: './second',
  backLink: './',
});
