import { remarkRunnableBlocks } from '@sandbox-terminal/docs/remark';
import { siteOptions } from '../shared/site-options.mjs';

/** @type {import('@docusaurus/types').Config} */
export default {
  title: 'sandbox-terminal × Docusaurus',
  url: 'http://localhost',
  baseUrl: '/',
  onBrokenLinks: 'throw',
  presets: [
    [
      'classic',
      {
        docs: { routeBasePath: '/', sidebarPath: false, remarkPlugins: [remarkRunnableBlocks] },
        blog: false,
        pages: false,
        theme: {},
      },
    ],
  ],
  plugins: [['@sandbox-terminal/docs/docusaurus', siteOptions]],
};
