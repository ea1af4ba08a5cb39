import { defineConfig } from 'vitepress';
import { runnableBlocks } from '@sandbox-terminal/docs/markdown-it';
import { siteOptions } from '../../../shared/site-options.mjs';

export default defineConfig({
  title: 'sandbox-terminal × VitePress',
  description: 'Runnable shell blocks in a VitePress site',
  cleanUrls: false,
  markdown: { config: (md) => md.use(runnableBlocks) },
  themeConfig: {
    sandboxTerminal: siteOptions,
    nav: [{ text: 'Tutorial', link: '/' }],
    sidebar: [{ text: 'Tutorial', items: [{ text: 'Your first script', link: '/' }, { text: 'Still the same shell', link: '/second' }] }],
  },
});
