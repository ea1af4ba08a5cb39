// examples/vitepress: the markdown-it plugin and withRunnableBlocks(DefaultTheme), built with `vitepress build`.
import { describeExample } from './reader-flows.ts';

describeExample('vitepress', { outputDir: 'docs/.vitepress/dist', first: '/', second: '/second.html' });
