import { defineConfig } from 'astro/config';
import starlight from '@astrojs/starlight';
import { starlightSandboxTerminal } from '@sandbox-terminal/docs/starlight';
import { siteOptions } from '../shared/site-options.mjs';

export default defineConfig({
  integrations: [
    starlight({
      title: 'sandbox-terminal × Starlight',
      plugins: [starlightSandboxTerminal(siteOptions)],
      sidebar: [{ label: 'Tutorial', items: [{ label: 'Your first script', link: '/' }, { label: 'Still the same shell', link: '/second/' }] }],
    }),
  ],
});
